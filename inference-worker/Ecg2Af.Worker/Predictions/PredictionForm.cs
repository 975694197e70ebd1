using System.Net.Mail;
using Ecg2Af.Worker.Uploads;

namespace Ecg2Af.Worker.Predictions;

/// <summary>A prediction upload: the ECG, who submitted it, and which model to use.</summary>
internal sealed record PredictionForm(string Name, string Email, EcgUploadForm Ecg, string? Model, string? Version)
{
    /// <summary>
    /// Reads and checks the multipart form. Returns the form, or the validation errors keyed by field
    /// (the messages never echo the submitted name or email).
    /// </summary>
    public static async Task<(PredictionForm? Form, Dictionary<string, string[]> Errors)> ReadAsync(
        HttpRequest request, UploadOptions limits, CancellationToken cancellationToken)
    {
        var (upload, errors) = await EcgUploadForm.ReadAsync(request, limits, cancellationToken);
        if (!request.HasFormContentType)
        {
            errors["name"] = ["Name is required."];
            errors["email"] = ["Email is required."];
            return (null, errors);
        }

        var form = upload?.Form ?? await request.ReadFormAsync(cancellationToken);
        var name = form["name"].ToString().Trim();
        var email = form["email"].ToString().Trim();
        ValidateSubmitter(name, email, errors);
        if (errors.Count > 0 || upload is null)
        {
            return (null, errors);
        }

        return (new PredictionForm(name, email, upload,
            EcgUploadForm.Value(request, form, "model"), EcgUploadForm.Value(request, form, "version")), errors);
    }

    /// <summary>
    /// Checks the submitter's name and email (trimmed), adding errors keyed by field that never echo the values. Every
    /// endpoint that takes a submitter uses these rules and words.
    /// </summary>
    internal static void ValidateSubmitter(string name, string email, Dictionary<string, string[]> errors)
    {
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
    }

    /// <summary>Accepts a plain address (no display name) with a dotted domain.</summary>
    internal static bool IsValidEmail(string email) =>
        email.Length <= 254
        && MailAddress.TryCreate(email, out var address)
        && address.Address == email
        && address.Host.Contains('.', StringComparison.Ordinal)
        && !address.Host.EndsWith('.');
}
