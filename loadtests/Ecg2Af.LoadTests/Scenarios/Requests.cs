using System.Globalization;
using System.Net.Http.Headers;

namespace Ecg2Af.LoadTests.Scenarios;

/// <summary>The request kinds of the scenarios, all aimed at the target (the gateway) over HTTP.</summary>
public static class Requests
{
    public const string PriorityHeader = "X-Ecg2Af-Priority";
    public const string InferenceHeaderLength = "Inference-Header-Content-Length";

    /// <summary>
    /// The web form's upload: <c>POST /api/v1/predictions</c>, multipart with the ECG file(s), a name and an email
    /// (synthetic, one per client), cycling through the real-format mix.
    /// </summary>
    public static Func<RequestContext, HttpRequestMessage> WebForm(Uri target, Payloads payloads, string? priority = null) => context =>
    {
        var record = payloads.Records[(int)(context.Index % payloads.Records.Count)];
        var form = new MultipartFormDataContent();
        Payloads.AddFiles(form, record);
        form.Add(new StringContent($"Load Test User {context.Client.ToString(CultureInfo.InvariantCulture)}"), "name");
        form.Add(new StringContent($"load{context.Client.ToString(CultureInfo.InvariantCulture)}@example.org"), "email");
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(target, "/api/v1/predictions")) { Content = form };
        return WithPriority(request, priority);
    };

    /// <summary>Open Inference Protocol with JSON tensors: <c>POST /v2/models/{model}/infer</c>.</summary>
    public static Func<RequestContext, HttpRequestMessage> OipJson(Uri target, Payloads payloads, string? priority = null) => _ =>
    {
        var content = new ByteArrayContent(payloads.OipJson);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, InferUri(target, payloads)) { Content = content };
        return WithPriority(request, priority);
    };

    /// <summary>
    /// Open Inference Protocol with the binary tensor extension: a JSON header then the raw little-endian FP32
    /// tensor, <c>Inference-Header-Content-Length</c> giving the header's size; binary outputs asked for.
    /// </summary>
    public static Func<RequestContext, HttpRequestMessage> OipBinary(Uri target, Payloads payloads, string? priority = null) => _ =>
    {
        var content = new ByteArrayContent(payloads.OipBinary);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Headers.Add(InferenceHeaderLength, payloads.OipBinaryHeaderLength.ToString(CultureInfo.InvariantCulture));
        var request = new HttpRequestMessage(HttpMethod.Post, InferUri(target, payloads)) { Content = content };
        return WithPriority(request, priority);
    };

    /// <summary>
    /// Many ECGs in one request (issue #10's contract): <c>POST /api/v1/predictions:batch</c>, multipart with
    /// <paramref name="records"/> records' files as <c>ecg</c> parts, a name and an email.
    /// </summary>
    public static Func<RequestContext, HttpRequestMessage> Batch(Uri target, Payloads payloads, int records) => context =>
    {
        var form = new MultipartFormDataContent();
        for (var i = 0; i < records; i++)
        {
            Payloads.AddFiles(form, payloads.Records[(int)((context.Index + i) % payloads.Records.Count)]);
        }

        form.Add(new StringContent($"Load Test User {context.Client.ToString(CultureInfo.InvariantCulture)}"), "name");
        form.Add(new StringContent($"load{context.Client.ToString(CultureInfo.InvariantCulture)}@example.org"), "email");
        return new HttpRequestMessage(HttpMethod.Post, new Uri(target, "/api/v1/predictions:batch")) { Content = form };
    };

    private static Uri InferUri(Uri target, Payloads payloads) => new(target, $"/v2/models/{Uri.EscapeDataString(payloads.Model)}/infer");

    private static HttpRequestMessage WithPriority(HttpRequestMessage request, string? priority)
    {
        if (priority is not null)
        {
            request.Headers.Add(PriorityHeader, priority);
        }

        return request;
    }
}
