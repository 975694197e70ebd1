using Ecg2Af.Ecg;

namespace Ecg2Af.Worker.Uploads;

/// <summary>RFC 7807 answers for input the service cannot use.</summary>
internal static class EcgProblems
{
    public static IResult From(EcgFormatException e) => e.Kind switch
    {
        EcgErrorKind.TooLarge => Problem(StatusCodes.Status413PayloadTooLarge, "ECG upload too large", e.Message),
        EcgErrorKind.UnsupportedFormat => Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported ECG format", e.Message),
        EcgErrorKind.Unusable => Problem(StatusCodes.Status422UnprocessableEntity, "ECG cannot be used by the model", e.Message),
        _ => Problem(StatusCodes.Status400BadRequest, "Malformed ECG file", e.Message),
    };

    public static IResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title);
}
