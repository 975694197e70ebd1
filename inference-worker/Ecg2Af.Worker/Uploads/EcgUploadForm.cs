using System.Globalization;
using Ecg2Af.Ecg;

namespace Ecg2Af.Worker.Uploads;

/// <summary>
/// The ECG part of a multipart upload: the files in the <c>ecg</c> field and the optional reading hints
/// (<c>sample_rate_hz</c>, <c>units</c>, <c>acquisition</c>, <c>allow_flat_leads</c>). Shared by every endpoint that takes an ECG.
/// </summary>
internal sealed record EcgUploadForm(IFormCollection Form, IReadOnlyList<EcgFile> Files, EcgReadOptions ReadOptions)
{
    public const string EcgField = "ecg";

    public const string SampleRateField = "sample_rate_hz";

    public const string UnitsField = "units";

    public const string AllowFlatLeadsField = "allow_flat_leads";

    public const string AcquisitionField = "acquisition";

    /// <summary>Reads the form. Returns it, or validation errors keyed by field (never echoing submitted values).</summary>
    public static async Task<(EcgUploadForm? Upload, Dictionary<string, string[]> Errors)> ReadAsync(
        HttpRequest request, UploadOptions limits, CancellationToken cancellationToken, bool requireFiles = true)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (!request.HasFormContentType)
        {
            errors[EcgField] = ["Send multipart/form-data with the ECG file(s) in the 'ecg' field."];
            return (null, errors);
        }

        var form = await request.ReadFormAsync(cancellationToken);
        var uploads = form.Files.GetFiles(EcgField);
        if (uploads.Count == 0 && requireFiles)
        {
            errors[EcgField] = ["Attach an ECG file in the 'ecg' field."];
        }
        else if (uploads.Count > limits.MaxFiles)
        {
            errors[EcgField] = [$"At most {limits.MaxFiles} files make one record; {uploads.Count} were sent."];
        }

        var readOptions = ParseReadOptions(request, form, errors);
        if (errors.Count > 0)
        {
            return (null, errors);
        }

        var files = new List<EcgFile>(uploads.Count);
        foreach (var upload in uploads)
        {
            using var stream = upload.OpenReadStream();
            var bytes = new byte[upload.Length];
            await stream.ReadExactlyAsync(bytes, cancellationToken);
            files.Add(new EcgFile(Path.GetFileName(upload.FileName), bytes));
        }

        return (new EcgUploadForm(form, files, readOptions), errors);
    }

    /// <summary>A form field, or the query-string parameter of the same name; null when absent or blank.</summary>
    public static string? Value(HttpRequest request, IFormCollection form, string name)
    {
        var value = form[name].ToString().Trim();
        if (value.Length == 0)
        {
            value = request.Query[name].ToString().Trim();
        }

        return value.Length > 0 ? value : null;
    }

    internal static EcgReadOptions ParseReadOptions(HttpRequest request, IFormCollection form, Dictionary<string, string[]> errors)
    {
        var options = EcgReadOptions.Default;
        if (Value(request, form, SampleRateField) is { } rate)
        {
            if (double.TryParse(rate, NumberStyles.Float, CultureInfo.InvariantCulture, out var hz) && hz is >= 50 and <= 20000)
            {
                options = options with { SampleRateHz = hz };
            }
            else
            {
                errors[SampleRateField] = ["sample_rate_hz must be a number of hertz between 50 and 20000."];
            }
        }

        if (Value(request, form, UnitsField) is { } units)
        {
            if (units.ToUpperInvariant() is "MV" or "UV" or "V" or "µV" or "MICROVOLTS" or "MILLIVOLTS")
            {
                options = options with { Units = units };
            }
            else
            {
                errors[UnitsField] = ["units must be mV, uV or V."];
            }
        }

        if (Value(request, form, AllowFlatLeadsField) is { } allowFlat)
        {
            if (bool.TryParse(allowFlat, out var allow))
            {
                options = options with { AllowFlatLeads = allow };
            }
            else
            {
                errors[AllowFlatLeadsField] = ["allow_flat_leads must be true or false."];
            }
        }

        if (Value(request, form, AcquisitionField) is { } acquisition)
        {
            options = options with { Acquisition = acquisition };
        }

        return options;
    }
}
