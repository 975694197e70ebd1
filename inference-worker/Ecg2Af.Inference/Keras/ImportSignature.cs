using Ecg2Af.Ecg;
using Ecg2Af.Inference.Onnx;

namespace Ecg2Af.Inference.Keras;

/// <summary>Builds the <c>model.json</c> input and output description of an imported network.</summary>
internal static class ImportSignature
{
    public static (string Decoder, IReadOnlyList<SignatureOutput> Outputs) Outputs(
        Network network, IReadOnlyDictionary<string, TensorShape> shapes, KerasImportOptions options)
    {
        var outputs = network.Outputs.Select(o => (o.Name, Shape: shapes[o.Tensor], Activation: FinalActivation(network, o.Tensor))).ToList();
        var decoder = options.Decoder is null || options.Decoder == KerasImporter.Auto ? Detect(outputs) : options.Decoder;
        if (decoder is KnownDecoders.Ecg2Af2021 or KnownDecoders.Ecg2Af2024)
        {
            if (options.Labels is not null)
            {
                throw new KerasImportException($"Labels are fixed by the {decoder} heads; do not pass labels with it.");
            }

            var heads = decoder == KnownDecoders.Ecg2Af2021 ? Ecg2AfHeads.Outputs2021 : Ecg2AfHeads.Outputs2024;
            return (decoder, MapHeads(decoder, heads, outputs));
        }

        if (decoder is not (KnownDecoders.Multilabel or KnownDecoders.Softmax))
        {
            throw new KerasImportException(
                $"Unknown decoder '{decoder}'; use {KerasImporter.Auto}, {KnownDecoders.Ecg2Af2021}, {KnownDecoders.Ecg2Af2024}, {KnownDecoders.Multilabel} or {KnownDecoders.Softmax}.");
        }

        if (outputs.Count != 1 || outputs[0].Shape.IsSequence)
        {
            throw new KerasImportException($"The {decoder} decoder needs one vector output; the model has {Describe(outputs)}.");
        }

        var (name, shape, activation) = outputs[0];
        var expected = decoder == KnownDecoders.Multilabel ? ActivationKind.Sigmoid : ActivationKind.Softmax;
        if (activation != expected)
        {
            throw new KerasImportException($"The {decoder} decoder needs a {expected} output; '{name}' ends in {activation}.");
        }

        var labels = options.Labels ?? throw new KerasImportException($"Give the {shape.Channels} class labels of '{name}' for the {decoder} decoder.");
        if (labels.Count != shape.Channels)
        {
            throw new KerasImportException($"'{name}' has {shape.Channels} outputs but {labels.Count} labels were given.");
        }

        return (decoder,
        [
            new SignatureOutput
            {
                Name = name,
                Size = shape.Channels,
                Kind = decoder == KnownDecoders.Multilabel ? HeadKind.Multilabel : HeadKind.Categorical,
                Role = HeadRole.Labels,
                Labels = labels,
            },
        ]);
    }

    public static SignatureInput Input(Network network, KerasImportOptions options)
    {
        // The ECG2AF heads also sit on the single-lead strip models ([5000, 1], lead I or II), so the input is not checked
        // against [5000, 12] here: channels other than 12 need their lead names.
        var input = network.Input;
        var leads = options.Leads ?? (input.Channels == 12
            ? Leads.Standard12
            : throw new KerasImportException($"Input '{input.Name}' has {input.Channels} channels; give their lead names."));
        if (leads.Count != input.Channels)
        {
            throw new KerasImportException($"Input '{input.Name}' has {input.Channels} channels but {leads.Count} leads were given.");
        }

        return new SignatureInput
        {
            Name = input.Name,
            Samples = input.Samples,
            SampleRateHz = options.SampleRateHz ?? 500,
            Leads = leads,
            LengthPolicy = options.LengthPolicy ?? LengthPolicy.Resample,
            Normalization = options.Normalization ?? NormalizationKind.GlobalZScore,
            Epsilon = options.Epsilon ?? 1e-6,
            Units = options.Units ?? "mV",
        };
    }

    public static string Notice(string decoder) => decoder switch
    {
        KnownDecoders.Ecg2Af2021 => Ecg2AfNotice,
        KnownDecoders.Ecg2Af2024 => Ecg2AfNotice + " 2024 model: the 10-year horizon (25 bins of 146.1 days) is inferred, not published, "
            + "and the age head is a z-score whose cohort mean and SD are unpublished.",
        _ => "Imported third-party model: check its licence and intended use; not a medical device.",
    };

    private const string Ecg2AfNotice =
        "ECG2AF weights (Broad Institute ml4h model zoo): research use, not FDA-cleared. The model zoo has no licence file of its own "
        + "(ml4h was BSD-3-Clause at upload and is GPL-3.0 since 2025-11); get legal review before any non-academic use.";

    /// <summary>The activation that produces <paramref name="tensor"/>, looking through pass-through layers.</summary>
    private static ActivationKind FinalActivation(Network network, string tensor)
    {
        var layer = network.Layers.FirstOrDefault(l => l.Name == tensor);
        return layer switch
        {
            DenseLayer d => d.Activation.Kind,
            Conv1DLayer c => c.Activation.Kind,
            ActivationLayer a => a.Activation.Kind,
            IdentityLayer i => FinalActivation(network, i.Inputs[0]),
            _ => ActivationKind.Linear,
        };
    }

    private static string Detect(List<(string Name, TensorShape Shape, ActivationKind Activation)> outputs)
    {
        var names = outputs.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        if (names.SetEquals(Ecg2AfHeads.Outputs2021.Select(h => h.Name)))
        {
            return KnownDecoders.Ecg2Af2021;
        }

        if (names.SetEquals(Ecg2AfHeads.Outputs2024.Select(h => h.Name)))
        {
            return KnownDecoders.Ecg2Af2024;
        }

        if (outputs.Count == 1 && outputs[0].Activation == ActivationKind.Sigmoid)
        {
            return KnownDecoders.Multilabel;
        }

        if (outputs.Count == 1 && outputs[0].Activation == ActivationKind.Softmax)
        {
            return KnownDecoders.Softmax;
        }

        throw new KerasImportException($"Cannot pick a decoder for outputs {Describe(outputs)}; choose one explicitly.");
    }

    /// <summary>The ECG2AF heads in the graph's output order, checked for width and activation.</summary>
    private static List<SignatureOutput> MapHeads(
        string decoder, IReadOnlyList<SignatureOutput> heads, List<(string Name, TensorShape Shape, ActivationKind Activation)> outputs)
    {
        if (outputs.Count != heads.Count)
        {
            throw new KerasImportException($"The {decoder} decoder needs {heads.Count} outputs; the model has {Describe(outputs)}.");
        }

        return outputs.Select(o =>
        {
            var head = heads.FirstOrDefault(h => h.Name == o.Name)
                ?? throw new KerasImportException($"Output '{o.Name}' is not one of the {decoder} heads ({string.Join(", ", heads.Select(h => h.Name))}).");
            var activation = head.Kind switch
            {
                HeadKind.SurvivalCurve or HeadKind.Multilabel => ActivationKind.Sigmoid,
                HeadKind.Categorical => ActivationKind.Softmax,
                _ => ActivationKind.Linear,
            };
            if (o.Shape.IsSequence || o.Shape.Channels != head.Size || o.Activation != activation)
            {
                throw new KerasImportException(
                    $"Output '{o.Name}' is {o.Shape} {o.Activation}; the {decoder} head is [{head.Size}] {activation}.");
            }

            return head;
        }).ToList();
    }

    private static string Describe(List<(string Name, TensorShape Shape, ActivationKind Activation)> outputs) =>
        string.Join(", ", outputs.Select(o => $"{o.Name} {o.Shape} {o.Activation}"));
}
