using System.Globalization;
using Ecg2Af.Client;
using Ecg2Af.Client.Rest;

namespace Ecg2Af.LoadTests.Scenarios;

/// <summary>
/// The request kinds of the scenarios, all aimed at the target (the gateway) over HTTP. They are the client
/// library's own requests (<see cref="Ecg2AfRequests"/>), so the tool times exactly what an Ecg2Af.Client user sends.
/// </summary>
public static class Requests
{
    public const string PriorityHeader = Ecg2AfRequests.PriorityHeader;

    /// <summary>
    /// The web form's upload: <c>POST /api/v1/predictions</c>, multipart with the ECG file(s), a name and an email
    /// (synthetic, one per client), cycling through the real-format mix.
    /// </summary>
    public static Func<RequestContext, HttpRequestMessage> WebForm(Uri target, Payloads payloads, string? priority = null) => context =>
    {
        var record = payloads.Records[(int)(context.Index % payloads.Records.Count)];
        var request = Ecg2AfRequests.Prediction(target, Files(record), Identity(context));
        return Ecg2AfRequests.WithPriority(request, priority);
    };

    /// <summary>Open Inference Protocol with JSON tensors: <c>POST /v2/models/{model}/infer</c>.</summary>
    public static Func<RequestContext, HttpRequestMessage> OipJson(Uri target, Payloads payloads, string? priority = null) => _ =>
        Ecg2AfRequests.WithPriority(Ecg2AfRequests.InferJson(target, payloads.Model, payloads.OipJson), priority);

    /// <summary>
    /// Open Inference Protocol with the binary tensor extension: a JSON header then the raw little-endian FP32
    /// tensor, <c>Inference-Header-Content-Length</c> giving the header's size; binary outputs asked for.
    /// </summary>
    public static Func<RequestContext, HttpRequestMessage> OipBinary(Uri target, Payloads payloads, string? priority = null) => _ =>
        Ecg2AfRequests.WithPriority(Ecg2AfRequests.InferBinary(target, payloads.Model, payloads.OipBinary, payloads.OipBinaryHeaderLength), priority);

    /// <summary>
    /// Many ECGs in one request (issue #10's contract): <c>POST /api/v1/predictions:batch</c>, multipart with
    /// <paramref name="records"/> records' files as <c>ecg</c> parts, a name and an email.
    /// </summary>
    public static Func<RequestContext, HttpRequestMessage> Batch(Uri target, Payloads payloads, int records) => context =>
    {
        var files = Enumerable.Range(0, records).SelectMany(i => Files(payloads.Records[(int)((context.Index + i) % payloads.Records.Count)]));
        return Ecg2AfRequests.Batch(target, files, Identity(context));
    };

    /// <summary>A record's files as the client library takes them.</summary>
    public static IEnumerable<EcgFile> Files(EcgRecordFiles record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return record.Files.Select(f => new EcgFile(f.FileName, f.Bytes));
    }

    private static EcgUploadOptions Identity(RequestContext context) => new()
    {
        Name = $"Load Test User {context.Client.ToString(CultureInfo.InvariantCulture)}",
        Email = $"load{context.Client.ToString(CultureInfo.InvariantCulture)}@example.org",
    };
}
