using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Ecg2Af.LocalCluster;

/// <summary>One hostile HTTP request: where it goes, its headers, its body, and what the mutation did.</summary>
/// <param name="Description">What was mutated (for a failure message).</param>
/// <param name="Path">Route and query.</param>
/// <param name="Headers">Headers as sent; <c>Content-Type</c> among them when there is one.</param>
/// <param name="Body">The body bytes.</param>
/// <param name="DeclaredLength">A <c>Content-Length</c> that lies about the body (sent over a raw socket), or null.</param>
public sealed record HostileEnvelope(string Description, string Path, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body, long? DeclaredLength)
{
    /// <summary>Whether the route answers in the Open Inference Protocol's error format (<c>{"error": ...}</c>) instead of ProblemDetails.</summary>
    public bool IsInferenceProtocol => Path.StartsWith("/v2/", StringComparison.Ordinal);
}

/// <summary>
/// Seeded, deterministic mutations of the HTTP envelopes around an ECG (multipart structure, content types, headers,
/// JSON and OIP bodies) for every route that reads a body; <see cref="SendRawAsync"/> sends lying lengths. The ECG inside is never a usable one, so an
/// envelope that survives its mutation still gets a 4xx from the ECG or tensor checks: every answer must be a 4xx.
/// </summary>
public static class HostileEnvelopes
{
    public static readonly string[] FormRoutes = ["/api/v1/predictions", "/api/v1/ecg:preprocess", "/api/v1/predictions:batch"];

    public const string InferRoute = "/v2/models/ecg2af/infer";

    private const string Boundary = "ecg2af-fuzz-boundary-7c1e";

    /// <summary>Not any ECG format (415 when it reaches a reader), a few hundred bytes.</summary>
    private static readonly byte[] NotAnEcg = Encoding.ASCII.GetBytes("ECG? " + string.Concat(Enumerable.Range(0, 40).Select(i => $"{i * 7 % 13}|")));

    /// <summary><paramref name="count"/> cases from <paramref name="seed"/>; the same seed always gives the same cases.</summary>
    public static IReadOnlyList<HostileEnvelope> Generate(int seed, int count)
    {
        var random = new Random(seed);
        var cases = new List<HostileEnvelope>(count);
        for (var i = 0; i < count; i++)
        {
            cases.Add((i % 4) switch
            {
                0 or 1 => Form(random, FormRoutes[random.Next(FormRoutes.Length)]),
                2 => Oip(random),
                _ => Headers(random),
            });
        }

        return cases;
    }

    /// <summary>A multipart form with name, email and an ECG part, then one to three mutations of its structure.</summary>
    private static HostileEnvelope Form(Random random, string path)
    {
        var body = MultipartBody(Boundary);
        var contentType = $"multipart/form-data; boundary={Boundary}";
        var what = new List<string>();
        for (var m = random.Next(1, 4); m > 0; m--)
        {
            switch (random.Next(14))
            {
                case 0:
                    contentType = "multipart/form-data";
                    what.Add("no boundary");
                    break;
                case 1:
                    contentType = "multipart/form-data; boundary=other-boundary";
                    what.Add("mismatched boundary");
                    break;
                case 2:
                    contentType = "multipart/form-data; boundary=";
                    what.Add("empty boundary");
                    break;
                case 3:
                    contentType = $"multipart/form-data; boundary={new string('b', 300)}";
                    what.Add("overlong boundary");
                    break;
                case 4:
                    contentType = random.Next(4) switch { 0 => "text/plain", 1 => "application/json", 2 => "multipart/mixed; boundary=" + Boundary, _ => "application/x-www-form-urlencoded" };
                    what.Add($"content type {contentType}");
                    break;
                case 5:
                    body = body[..random.Next(body.Length)];
                    what.Add("truncated");
                    break;
                case 6:
                    body = Flip(random, body, random.Next(1, 16));
                    what.Add("bytes flipped");
                    break;
                case 7:
                    body = Remove(body, "\r\n"u8, random);
                    what.Add("a CRLF removed");
                    break;
                case 8:
                    body = Insert(random, body, Encoding.ASCII.GetBytes($"\r\n--{Boundary}\r\n"));
                    what.Add("stray boundary");
                    break;
                case 9:
                    body = Insert(random, body, Encoding.ASCII.GetBytes($"X-Long: {new string('h', 20_000)}\r\n"));
                    what.Add("overlong part header");
                    break;
                case 10:
                    body = Remove(body, Encoding.ASCII.GetBytes($"--{Boundary}--"), random);
                    what.Add("no closing boundary");
                    break;
                case 11:
                    body = Replace(body, "form-data; name=\"ecg\""u8, random.Next(3) switch
                    {
                        0 => "form-data; name=\"ecg\"; filename=\"\""u8.ToArray(),
                        1 => "attachment; filename=\"../../etc/passwd\""u8.ToArray(),
                        _ => "form-data; name=\"ecg\"; filename*=UTF-8''%ff%fe%00"u8.ToArray(),
                    });
                    what.Add("odd content disposition");
                    break;
                case 12:
                    contentType = $"multipart/form-data; boundary={Boundary}; boundary=second; charset=\"x-unknown-%%";
                    what.Add("duplicate boundary and a bad charset");
                    break;
                default:
                    contentType = "multipart/form-data; boundary=\"" + Boundary;
                    what.Add("unterminated quoted boundary");
                    break;
            }
        }

        return new HostileEnvelope($"{path}: {string.Join(", ", what)}", path, [new("Content-Type", contentType)], body, null);
    }

    /// <summary>An OIP request (JSON tensor or the binary extension, of an impossible shape), then mutations.</summary>
    private static HostileEnvelope Oip(Random random)
    {
        var binary = random.Next(2) == 0;
        var values = string.Join(",", Enumerable.Range(0, 24).Select(i => (i * 0.25).ToString(CultureInfo.InvariantCulture)));
        var json = binary
            ? """{"inputs":[{"name":"input_ecg_5000_std_continuous","datatype":"FP32","shape":[1,2,12],"parameters":{"binary_data_size":96}}]}"""
            : $$"""{"id":"fuzz","inputs":[{"name":"input_ecg_5000_std_continuous","datatype":"FP32","shape":[1,2,12],"data":[{{values}}]}],"outputs":[{"name":"output_sex_from_wide_categorical"}]}""";
        var header = Encoding.UTF8.GetBytes(json);
        var body = binary ? [.. header, .. new byte[96]] : header;
        var headers = new List<KeyValuePair<string, string>> { new("Content-Type", binary ? "application/octet-stream" : "application/json") };
        var headerLength = binary ? header.Length.ToString(CultureInfo.InvariantCulture) : null;
        var what = new List<string> { binary ? "binary" : "json" };
        for (var m = random.Next(1, 4); m > 0; m--)
        {
            switch (random.Next(10))
            {
                case 0:
                    body = body[..random.Next(body.Length)];
                    what.Add("truncated");
                    break;
                case 1:
                    body = Flip(random, body, random.Next(1, 12));
                    what.Add("bytes flipped");
                    break;
                case 2:
                    body = Encoding.ASCII.GetBytes(new string('[', 5000));
                    what.Add("deep nesting");
                    break;
                case 3:
                    body = Replace(body, "0.25"u8, random.Next(3) switch { 0 => "1e999"u8.ToArray(), 1 => "NaN"u8.ToArray(), _ => "\"x\""u8.ToArray() });
                    what.Add("bad number");
                    break;
                case 4:
                    headerLength = random.Next(4) switch { 0 => "-1", 1 => "abc", 2 => "999999999", _ => (body.Length + 1).ToString(CultureInfo.InvariantCulture) };
                    what.Add($"{InferenceHeaderLength} {headerLength}");
                    break;
                case 5:
                    headerLength = "0";
                    what.Add("raw binary of the wrong size");
                    break;
                case 6:
                    body = Replace(body, "[1,2,12]"u8, random.Next(3) switch { 0 => "[-1,5000,12]"u8.ToArray(), 1 => "[99999999999,5000,12]"u8.ToArray(), _ => "\"shape\""u8.ToArray() });
                    what.Add("bad shape");
                    break;
                case 7:
                    body = binary
                        ? [.. header, .. Enumerable.Repeat(new byte[] { 0, 0, 0xC0, 0x7F }, 24).SelectMany(b => b)]
                        : Replace(body, "0.25"u8, "3.5e38"u8.ToArray());
                    what.Add("non-finite or out-of-range values");
                    break;
                case 8:
                    body = Insert(random, body, "{\"inputs\":[],\"inputs\":[]}"u8.ToArray());
                    what.Add("a second JSON document");
                    break;
                default:
                    body = Insert(random, body, "\u0000\uFFFF"u8.ToArray());
                    what.Add("control bytes");
                    break;
            }
        }

        if (headerLength is not null)
        {
            headers.Add(new(InferenceHeaderLength, headerLength));
        }

        return new HostileEnvelope($"{InferRoute}: {string.Join(", ", what)}", InferRoute, headers, body, null);
    }

    /// <summary>A well-formed body to any route with hostile scheduling headers.</summary>
    private static HostileEnvelope Headers(Random random)
    {
        var path = random.Next(4) == 0 ? InferRoute : FormRoutes[random.Next(FormRoutes.Length)];
        var (name, value) = random.Next(6) switch
        {
            0 => ("X-Ecg2Af-Priority", random.Next(2) == 0 ? "urgent" : "9"),
            1 => ("X-Ecg2Af-Deadline-Ms", random.Next(3) switch { 0 => "-5", 1 => "NaN", _ => "soon" }),
            2 => ("Accept", "text/csv; q=abc, */*;;;"),
            3 => ("Content-Encoding", "gzip"),
            4 => ("X-Forwarded-For", "not-an-address, 999.1.1.1"),
            _ => ("X-Filler", new string('x', 8_000)),
        };
        var body = path == InferRoute
            ? Encoding.UTF8.GetBytes("""{"inputs":[{"name":"input_ecg_5000_std_continuous","datatype":"FP32","shape":[1,1,12],"data":[0,0,0,0,0,0,0,0,0,0,0,0]}]}""")
            : MultipartBody(Boundary);
        var contentType = path == InferRoute ? "application/json" : $"multipart/form-data; boundary={Boundary}";
        return new HostileEnvelope($"{path}: header {name}", path, [new("Content-Type", contentType), new(name, value)], body, null);
    }

    public const string InferenceHeaderLength = "Inference-Header-Content-Length";

    /// <summary>
    /// Sends <paramref name="envelope"/> and returns the status and the response's content type. A lying
    /// <c>Content-Length</c> goes over a raw socket whose sending side is then closed (the body ends early).
    /// </summary>
    public static async Task<(int Status, string? ContentType, string Body)> SendAsync(
        HttpClient client, Uri baseAddress, HostileEnvelope envelope, IEnumerable<KeyValuePair<string, string>>? extraHeaders = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(baseAddress);
        ArgumentNullException.ThrowIfNull(envelope);
        var headers = envelope.Headers.Concat(extraHeaders ?? []).ToList();
        if (envelope.DeclaredLength is { } declared)
        {
            return await SendRawAsync(baseAddress, envelope.Path, headers, envelope.Body, declared, cancellationToken);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseAddress, envelope.Path));
        var content = new ByteArrayContent(envelope.Body);
        request.Content = content;
        foreach (var (name, value) in headers)
        {
            if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase) || name.Equals("Content-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                content.Headers.TryAddWithoutValidation(name, value);
            }
            else
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        using var response = await client.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        return ((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, text);
    }

    /// <summary>
    /// One request over a fresh connection with the given <c>Content-Length</c>, whatever the body's real length; with
    /// <paramref name="endBody"/> false the connection stays open, so an answer proves the server did not wait for the body.
    /// </summary>
    public static async Task<(int Status, string? ContentType, string Body)> SendRawAsync(
        Uri baseAddress, string path, IEnumerable<KeyValuePair<string, string>> headers, byte[] body, long contentLength,
        CancellationToken cancellationToken = default, bool endBody = true)
    {
        ArgumentNullException.ThrowIfNull(baseAddress);
        ArgumentNullException.ThrowIfNull(body);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, baseAddress.Port, cancellationToken);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var head = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{baseAddress.Port}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Length: {contentLength}\r\n");
        foreach (var (name, value) in headers)
        {
            head.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
        }

        head.Append("Connection: close\r\n\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()), cancellationToken);
        await stream.WriteAsync(body, cancellationToken);
        await stream.FlushAsync(cancellationToken);
        if (endBody)
        {
            socket.Shutdown(SocketShutdown.Send); // the body ends here, before its declared length
        }

        using var reader = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int read;
        try
        {
            while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                reader.Write(buffer, 0, read);
            }
        }
        catch (IOException)
        {
            // The server reset the connection: after its answer (it had unread body bytes), or without one (status 0).
        }

        var text = Encoding.UTF8.GetString(reader.GetBuffer(), 0, (int)reader.Length);
        var statusLine = text.Split("\r\n", 2)[0].Split(' ');
        var status = statusLine.Length > 1 && int.TryParse(statusLine[1], NumberStyles.None, CultureInfo.InvariantCulture, out var code) ? code : 0;
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var headerText = split < 0 ? text : text[..split];
        var contentType = headerText.Split("\r\n").FirstOrDefault(l => l.StartsWith("Content-Type:", StringComparison.OrdinalIgnoreCase))?[13..].Split(';')[0].Trim();
        return (status, contentType, split < 0 ? "" : text[(split + 4)..]);
    }

    private static byte[] MultipartBody(string boundary)
    {
        var text = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nFuzz Tester\r\n")
            .Append(CultureInfo.InvariantCulture, $"--{boundary}\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nfuzz@example.org\r\n")
            .Append(CultureInfo.InvariantCulture, $"--{boundary}\r\nContent-Disposition: form-data; name=\"ecg\"; filename=\"fuzz.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n");
        return [.. Encoding.ASCII.GetBytes(text.ToString()), .. NotAnEcg, .. Encoding.ASCII.GetBytes($"\r\n--{boundary}--\r\n")];
    }

    private static byte[] Flip(Random random, byte[] body, int bits)
    {
        var copy = (byte[])body.Clone();
        for (var i = 0; i < bits && copy.Length > 0; i++)
        {
            copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
        }

        return copy;
    }

    private static byte[] Insert(Random random, byte[] body, byte[] insert)
    {
        var at = random.Next(body.Length + 1);
        return [.. body.AsSpan(0, at), .. insert, .. body.AsSpan(at)];
    }

    private static byte[] Remove(byte[] body, ReadOnlySpan<byte> what, Random random)
    {
        var positions = new List<int>();
        for (var i = body.AsSpan().IndexOf(what); i >= 0;)
        {
            positions.Add(i);
            var next = body.AsSpan(i + 1).IndexOf(what);
            i = next < 0 ? -1 : i + 1 + next;
        }

        if (positions.Count == 0)
        {
            return body;
        }

        var at = positions[random.Next(positions.Count)];
        return [.. body.AsSpan(0, at), .. body.AsSpan(at + what.Length)];
    }

    private static byte[] Replace(byte[] body, ReadOnlySpan<byte> what, byte[] with)
    {
        var at = body.AsSpan().IndexOf(what);
        return at < 0 ? body : [.. body.AsSpan(0, at), .. with, .. body.AsSpan(at + what.Length)];
    }
}
