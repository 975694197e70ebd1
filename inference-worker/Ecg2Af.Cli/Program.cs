using System.CommandLine;
using Ecg2Af.Cli;

// Each command lives in its own file and only adds itself here.
var root = new RootCommand("ecg2af: build, import and inspect ECG2AF ONNX models; preprocess and score ECGs; create API keys.")
{
    StandInCommand.Create(),
    ImportCommand.Create(),
    InspectCommand.Create(),
    PreprocessCommand.Create(),
    PredictCommand.Create(),
    KeysCommand.Create(),
};
return root.Parse(args).Invoke();
