using System.Net.Mail;
using Ecg2Af.Ecg;

namespace Ecg2Af.Worker.Predictions;

/// <summary>The fields of a prediction upload, read and checked.</summary>
internal sealed record PredictionForm(
    string Name,
    string Email,
    IReadOnlyList<EcgFile> Files,
    string? Model,
    string? Version,
    EcgReadOptions ReadOptions)
{
    public const string EcgField = "ecg";

    /// <summary>
    /// Reads the multipart form. Returns the form, or the validation errors keyed by field
    /// (the messages never echo the submitted name or email).
    /// </summary>
    public static async Task<(PredictionForm? Form, Dictionary<string, string[]> Errors)> ReadAsync(
        HttpRequest request, UploadOptions limits, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (!request.HasFormContentType)
        {
            errors[EcgField] = ["Send multipart/form-data with the ECG file(s) in the 'ecg' field, plus 'name' and 'email'."];
            return (null, errors);
        }

        var form = await request.ReadFormAsync(cancellationToken);
        var name = form["name"].ToString().Trim();
        var email = form["email"].ToString().Trim();
        if (name.Length == 0)
        {
            errors["name"] = ["Name is required."];
        }
        else if (name.Length > 200)
        {
            errors["name"] = ["Name must be at most 200 characters."];
        }

        if (email.Length == 0)
        {
            errors["email"] = ["Email is required."];
        }
        else if (!IsValidEmail(email))
        {
            errors["email"] = ["Email must be a valid address such as name@example.org."];
        }

        var uploads = form.Files.GetFiles(EcgField);
        if (uploads.Count == 0)
        {
            errors[EcgField] = ["Attach an ECG file in the 'ecg' field."];
        }
        else if (uploads.Count > limits.MaxFiles)
        {
            errors[EcgField] = [$"At most {limits.MaxFiles} files make one record; {uploads.Count} were sent."];
        }

        var readOptions = ParseReadOptions(form, errors);
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

        var model = form["model"].ToString().Trim();
        var version = form["version"].ToString().Trim();
        return (new PredictionForm(name, email, files, model.Length > 0 ? model : null, version.Length > 0 ? version : null, readOptions), errors);
    }

    /// <summary>Accepts a plain address (no display name) with a dotted domain.</summary>
    internal static bool IsValidEmail(string email) =>
        email.Length <= 254
        && MailAddress.TryCreate(email, out var address)
        && address.Address == email
        && address.Host.Contains('.', StringComparison.Ordinal)
        && !address.Host.EndsWith('.');

    private static EcgReadOptions ParseReadOptions(IFormCollection form, Dictionary<string, string[]> errors)
    {
        var options = EcgReadOptions.Default;
        var rate = form["sample_rate_hz"].ToString().Trim();
        if (rate.Length > 0)
        {
            if (double.TryParse(rate, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var hz)
                && hz is >= 50 and <= 20000)
            {
                options = options with { SampleRateHz = hz };
            }
            else
            {
                errors["sample_rate_hz"] = ["sample_rate_hz must be a number of hertz between 50 and 20000."];
            }
        }

        var units = form["units"].ToString().Trim();
        if (units.Length > 0)
        {
            options = options with { Units = units };
        }

        var acquisition = form["acquisition"].ToString().Trim();
        if (acquisition.Length > 0)
        {
            options = options with { Acquisition = acquisition };
        }

        return options;
    }
}
