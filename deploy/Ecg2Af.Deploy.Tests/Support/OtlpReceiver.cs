using System.Collections.Concurrent;
using System.Net;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ecg2Af.Deploy.Tests.Support;

/// <summary>One span as an OTLP exporter sent it.</summary>
public sealed record ReceivedSpan(
    string Service, string Scope, string TraceId, string SpanId, string ParentSpanId, string Name, int Kind,
    IReadOnlyDictionary<string, string> Attributes)
{
    public const int KindInternal = 1;
    public const int KindServer = 2;
    public const int KindClient = 3;

    public override string ToString() =>
        $"{Service} {Scope} {Name} kind={Kind} trace={TraceId} span={SpanId} parent={ParentSpanId} " +
        string.Join(" ", Attributes.Select(a => $"{a.Key}={a.Value}"));
}

/// <summary>
/// An OTLP/HTTP (protobuf) trace receiver on a loopback port: <c>POST /v1/traces</c> with an
/// <c>ExportTraceServiceRequest</c>, decoded field by field with Google.Protobuf's wire reader (field numbers of
/// opentelemetry-proto's trace.proto, common.proto and resource.proto).
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedSpan> _spans = new();

    private OtlpReceiver(WebApplication app) => _app = app;

    public Uri Endpoint { get; private set; } = null!;

    public IReadOnlyCollection<ReceivedSpan> Spans => _spans;

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/traces", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            foreach (var span in Decode(body.ToArray()))
            {
                receiver._spans.Enqueue(span);
            }

            return Results.Bytes([], "application/x-protobuf");
        });
        await app.StartAsync();
        receiver.Endpoint = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }</summary>
    public static IEnumerable<ReceivedSpan> Decode(byte[] request)
    {
        foreach (var resourceSpans in Fields(request).Where(f => f.Number == 1))
        {
            var service = "";
            var scopeSpansList = new List<ByteString>();
            foreach (var field in Fields(resourceSpans.Bytes!.ToByteArray()))
            {
                if (field.Number == 1)
                {
                    // Resource { repeated KeyValue attributes = 1; }
                    var attributes = Attributes(field.Bytes!.ToByteArray(), 1);
                    service = attributes.GetValueOrDefault("service.name", "");
                }
                else if (field.Number == 2)
                {
                    scopeSpansList.Add(field.Bytes!);
                }
            }

            foreach (var scopeSpans in scopeSpansList)
            {
                // ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
                var fields = Fields(scopeSpans.ToByteArray()).ToList();
                var scope = fields.Where(f => f.Number == 1)
                    .SelectMany(f => Fields(f.Bytes!.ToByteArray()))
                    .Where(f => f.Number == 1).Select(f => f.Bytes!.ToStringUtf8()).FirstOrDefault() ?? "";
                foreach (var span in fields.Where(f => f.Number == 2))
                {
                    yield return Span(service, scope, span.Bytes!.ToByteArray());
                }
            }
        }
    }

    /// <summary>Span { bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5; SpanKind kind = 6; repeated KeyValue attributes = 9; }</summary>
    private static ReceivedSpan Span(string service, string scope, byte[] span)
    {
        string traceId = "", spanId = "", parent = "", name = "";
        var kind = 0;
        foreach (var field in Fields(span))
        {
            switch (field.Number)
            {
                case 1: traceId = Convert.ToHexStringLower(field.Bytes!.Span); break;
                case 2: spanId = Convert.ToHexStringLower(field.Bytes!.Span); break;
                case 4: parent = Convert.ToHexStringLower(field.Bytes!.Span); break;
                case 5: name = field.Bytes!.ToStringUtf8(); break;
                case 6: kind = (int)field.Varint; break;
            }
        }

        return new ReceivedSpan(service, scope, traceId, spanId, parent, name, kind, Attributes(span, 9));
    }

    /// <summary>KeyValue { string key = 1; AnyValue value = 2; } with AnyValue's scalar cases as text.</summary>
    private static Dictionary<string, string> Attributes(byte[] message, int fieldNumber)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var keyValue in Fields(message).Where(f => f.Number == fieldNumber))
        {
            string? key = null, value = null;
            foreach (var part in Fields(keyValue.Bytes!.ToByteArray()))
            {
                if (part.Number == 1)
                {
                    key = part.Bytes!.ToStringUtf8();
                }
                else if (part.Number == 2)
                {
                    // AnyValue { string_value = 1; bool_value = 2; int_value = 3; double_value = 4; ... }
                    foreach (var any in Fields(part.Bytes!.ToByteArray()))
                    {
                        value = any.Number switch
                        {
                            1 => any.Bytes!.ToStringUtf8(),
                            2 => (any.Varint != 0).ToString(),
                            3 => ((long)any.Varint).ToString(System.Globalization.CultureInfo.InvariantCulture),
                            4 => BitConverter.UInt64BitsToDouble(any.Fixed64).ToString(System.Globalization.CultureInfo.InvariantCulture),
                            _ => "(complex)",
                        };
                    }
                }
            }

            if (key is not null)
            {
                attributes[key] = value ?? "";
            }
        }

        return attributes;
    }

    private readonly record struct Field(int Number, ByteString? Bytes, ulong Varint, ulong Fixed64);

    private static IEnumerable<Field> Fields(byte[] message)
    {
        var input = new CodedInputStream(message);
        var fields = new List<Field>();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var number = WireFormat.GetTagFieldNumber(tag);
            switch (WireFormat.GetTagWireType(tag))
            {
                case WireFormat.WireType.LengthDelimited: fields.Add(new Field(number, input.ReadBytes(), 0, 0)); break;
                case WireFormat.WireType.Varint: fields.Add(new Field(number, null, input.ReadUInt64(), 0)); break;
                case WireFormat.WireType.Fixed64: fields.Add(new Field(number, null, 0, input.ReadFixed64())); break;
                default: input.SkipLastField(); break;
            }
        }

        return fields;
    }
}
