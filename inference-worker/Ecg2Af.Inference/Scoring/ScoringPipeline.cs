using System.Diagnostics;
using Ecg2Af.Ecg;
using Ecg2Af.Inference.Decoding;

namespace Ecg2Af.Inference.Scoring;

/// <summary>An ECG read and preprocessed for one model, waiting for inference.</summary>
public sealed record ScoringInput(EcgRecording Recording, PreparedEcg Prepared, double ParseMs, double PreprocessMs);

/// <summary>
/// The data path around inference: read and preprocess before it, decode and describe after it. Inference itself
/// is the caller's (a direct runner call, or the worker's batcher).
/// </summary>
public static class ScoringPipeline
{
    /// <summary>Reads the record and turns it into the model's input. Throws <see cref="EcgFormatException"/> for bad input.</summary>
    public static ScoringInput Prepare(IReadOnlyList<EcgFile> files, EcgReadOptions readOptions, ModelSignature signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        var start = Stopwatch.GetTimestamp();
        EcgRecording recording;
        using (var parse = InferenceTelemetry.Start("parse"))
        {
            parse?.SetTag("ecg.files", files.Count);
            try
            {
                recording = EcgReader.Read(files, readOptions);
            }
            catch (EcgFormatException e)
            {
                InferenceTelemetry.Fail(parse, e.Kind.ToString());
                throw;
            }

            parse?.SetTag("ecg.format", recording.Format);
            parse?.SetTag("ecg.sample_rate_hz", recording.SampleRateHz);
        }

        var parsed = Stopwatch.GetTimestamp();
        PreparedEcg prepared;
        using (var preprocess = InferenceTelemetry.Start("preprocess"))
        {
            try
            {
                prepared = EcgPreprocessor.Prepare(recording, signature.Input.ToInputSpec(), readOptions);
            }
            catch (EcgFormatException e)
            {
                InferenceTelemetry.Fail(preprocess, e.Kind.ToString());
                throw;
            }

            preprocess?.SetTag("ecg.leads_derived", prepared.LeadsDerived.Count);
            preprocess?.SetTag("ecg.resampled", prepared.Resampled);
        }

        var done = Stopwatch.GetTimestamp();
        return new ScoringInput(recording, prepared,
            Stopwatch.GetElapsedTime(start, parsed).TotalMilliseconds,
            Stopwatch.GetElapsedTime(parsed, done).TotalMilliseconds);
    }

    /// <summary>Decodes batch item <paramref name="index"/> of <paramref name="outputs"/> into the response.</summary>
    public static PredictionResponse Complete(
        string id, LoadedModel model, ScoringInput input, IReadOnlyList<float[]> outputs, int index, IReadOnlyDictionary<string, double> inferenceTimings)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(inferenceTimings);
        var start = Stopwatch.GetTimestamp();
        using var decode = InferenceTelemetry.Start("decode");
        decode?.SetTag("ecg2af.model", model.Name);
        decode?.SetTag("ecg2af.model_version", model.Version);
        var decoded = PredictionDecoder.Decode(model.Signature, outputs, index);
        var result = decoded with { QualityFlags = [.. input.Prepared.QualityFlags, .. decoded.QualityFlags] };
        var decodeMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;

        var timings = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["parse"] = Round(input.ParseMs),
            ["preprocess"] = Round(input.PreprocessMs),
        };
        foreach (var (stage, ms) in inferenceTimings)
        {
            timings[stage] = Round(ms);
        }

        timings["decode"] = Round(decodeMs);
        timings["total"] = Round(timings.Values.Sum());

        var recording = input.Recording;
        var provenance = model.Signature.Provenance;
        return new PredictionResponse
        {
            Id = id,
            Model = new ModelInfo(model.Name, model.Version, model.OnnxSha256, provenance.Weights, model.Runner.ExecutionProvider, provenance.Decoder)
            {
                GraphRewrite = model.Graph.Rewrite,
                ServedGraphSha256 = model.Graph.Rewrite is null ? null : model.Graph.Sha256,
            },
            Input = new InputInfo(
                recording.Format,
                recording.RecordName,
                recording.SampleRateHz,
                Math.Round(recording.DurationSeconds, 3),
                input.Prepared.LeadsPresent,
                input.Prepared.LeadsDerived,
                input.Prepared.Resampled,
                input.Prepared.Cropped,
                input.Prepared.Padded,
                input.Prepared.Warnings),
            Result = result,
            TimingMs = timings,
            Notice = Notices.For(model.Signature),
        };
    }

    private static double Round(double ms) => Math.Round(ms, 3);
}
