using System.Collections;
using System.ComponentModel;
using System.Reflection;
using System.Text.Json.Nodes;
using Ecg2Af.LocalCluster;
using Microsoft.AspNetCore.Hosting;

namespace Ecg2Af.Deploy.Tests.Support;

/// <summary>
/// The configuration a service really reads, taken from its built assemblies: every options class with a
/// <c>Section</c> constant (bound with <c>BindConfiguration</c>), YARP's <c>ReverseProxy</c> model for the gateway,
/// keys the source reads directly (<c>Configuration["Worker:InstanceId"]</c>), the host's own keys, and the
/// standard variables of the platform. <see cref="Check"/> says why an environment variable would be ignored.
/// </summary>
public sealed class ServiceConfiguration
{
    /// <summary>Variables the service never reads but its image or platform does.</summary>
    private static readonly Dictionary<string, string> Platform = new(StringComparer.Ordinal)
    {
        ["APP_UID"] = "the .NET images' non-root user id (USER $APP_UID)",
        ["DOTNET_RUNNING_IN_CONTAINER"] = ".NET runtime: running in a container",
        ["NVIDIA_VISIBLE_DEVICES"] = "NVIDIA Container Toolkit: GPUs to expose",
        ["NVIDIA_DRIVER_CAPABILITIES"] = "NVIDIA Container Toolkit: driver libraries to mount",
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "OpenTelemetry: OTLP endpoint (traces are exported only when set)",
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "OpenTelemetry: grpc or http/protobuf",
        ["OTEL_SERVICE_NAME"] = "OpenTelemetry: service name in traces",
        ["OTEL_BSP_SCHEDULE_DELAY"] = "OpenTelemetry: span batch export delay",
    };

    private readonly Dictionary<string, Type> _sections = new(StringComparer.OrdinalIgnoreCase);
    private readonly string _sourceText;
    private readonly JsonNode _appSettings;
    private readonly Assembly? _yarp;

    private ServiceConfiguration(string name, string dll, string sourceFolder, string appSettings, params string[] extraAssemblies)
    {
        Name = name;
        var folder = System.IO.Path.GetDirectoryName(dll)!;
        var assemblies = new[] { dll }.Concat(extraAssemblies.Select(a => System.IO.Path.Combine(folder, a + ".dll")))
            .Select(Assembly.LoadFrom).ToList();
        foreach (var type in assemblies.SelectMany(LoadableTypes))
        {
            if (type.GetField("Section", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true } field
                && field.GetRawConstantValue() is string section)
            {
                _sections[section] = type;
            }
        }

        var yarpPath = System.IO.Path.Combine(folder, "Yarp.ReverseProxy.dll");
        _yarp = File.Exists(yarpPath) ? Assembly.LoadFrom(yarpPath) : null;
        _sourceText = string.Join('\n', Directory.EnumerateFiles(sourceFolder, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal))
            .Select(File.ReadAllText));
        _appSettings = JsonNode.Parse(File.ReadAllText(appSettings))!;
    }

    public string Name { get; }

    public IReadOnlyDictionary<string, Type> Sections => _sections;

    private static readonly Lazy<ServiceConfiguration> GatewayConfiguration = new(() => new("gateway", RepositoryLayout.GatewayDll,
        System.IO.Path.Combine(RepositoryLayout.Root, "gateway", "Ecg2Af.Gateway"),
        System.IO.Path.Combine(RepositoryLayout.Root, "gateway", "Ecg2Af.Gateway", "appsettings.json")));

    private static readonly Lazy<ServiceConfiguration> WorkerConfiguration = new(() => new("inference-worker", RepositoryLayout.WorkerDll,
        System.IO.Path.Combine(RepositoryLayout.Root, "inference-worker"),
        System.IO.Path.Combine(RepositoryLayout.Root, "inference-worker", "Ecg2Af.Worker", "appsettings.json"), "Ecg2Af.Inference"));

    public static ServiceConfiguration Gateway => GatewayConfiguration.Value;

    public static ServiceConfiguration Worker => WorkerConfiguration.Value;

    /// <summary>Null when <paramref name="variable"/> (with <paramref name="value"/>, when known) is read by the service; else why not.</summary>
    public string? Check(string variable, string? value)
    {
        if (Platform.ContainsKey(variable))
        {
            return null;
        }

        if (variable.StartsWith("ASPNETCORE_", StringComparison.Ordinal))
        {
            return IsHostKey(variable["ASPNETCORE_".Length..]) ? null : $"{variable} is not an ASP.NET Core host setting";
        }

        var key = variable.Replace("__", ":", StringComparison.Ordinal);
        if (IsHostKey(key))
        {
            return null;
        }

        var segments = key.Split(':');
        if (segments[0].Equals("ReverseProxy", StringComparison.OrdinalIgnoreCase))
        {
            return CheckReverseProxy(segments, value);
        }

        if (segments[0].Equals("Kestrel", StringComparison.OrdinalIgnoreCase))
        {
            return CheckKestrel(segments, value);
        }

        var section = _sections.Keys
            .Where(s => key.StartsWith(s + ":", StringComparison.OrdinalIgnoreCase))
            .OrderByDescending(s => s.Length)
            .FirstOrDefault();
        if (section is not null)
        {
            return Walk(_sections[section], segments, section.Split(':').Length, value, key);
        }

        // Read directly from IConfiguration somewhere in the service's code.
        return _sourceText.Contains($"[\"{key}\"]", StringComparison.Ordinal)
            ? null
            : $"{variable}: no options section of {Name} and no Configuration[\"{key}\"] in its code reads it";
    }

    private static bool IsHostKey(string key) =>
        typeof(WebHostDefaults).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.FieldType == typeof(string))
            .Any(f => string.Equals((string?)f.GetValue(null), key, StringComparison.OrdinalIgnoreCase));

    private string? CheckReverseProxy(string[] segments, string? value)
    {
        var key = string.Join(':', segments);
        if (_yarp is null)
        {
            return $"{key}: {Name} does not use YARP";
        }

        if (segments.Length < 4)
        {
            return $"{key}: incomplete ReverseProxy key";
        }

        var kind = segments[1];
        var configType = kind.Equals("Clusters", StringComparison.OrdinalIgnoreCase) ? "ClusterConfig"
            : kind.Equals("Routes", StringComparison.OrdinalIgnoreCase) ? "RouteConfig" : null;
        if (configType is null)
        {
            return $"{key}: ReverseProxy has Clusters and Routes only";
        }

        // A deployment adds destinations to the gateway's clusters; it must not invent a cluster no route uses.
        if (_appSettings["ReverseProxy"]?[kind] is not JsonObject known || !known.Any(k => k.Key.Equals(segments[2], StringComparison.OrdinalIgnoreCase)))
        {
            return $"{key}: appsettings.json has no {kind} entry '{segments[2]}'";
        }

        var type = _yarp.GetType($"Yarp.ReverseProxy.Configuration.{configType}", throwOnError: true)!;
        return Walk(type, segments, 3, value, key);
    }

    /// <summary>Kestrel's own section: named endpoints (a URL, protocols, a certificate from files) and its limits.</summary>
    private static string? CheckKestrel(string[] segments, string? value)
    {
        var key = string.Join(':', segments);
        if (segments.Length > 2 && segments[1].Equals("Limits", StringComparison.OrdinalIgnoreCase))
        {
            return Walk(typeof(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerLimits), segments, 2, value, key);
        }

        if (segments.Length < 4 || !segments[1].Equals("Endpoints", StringComparison.OrdinalIgnoreCase))
        {
            return $"{key}: only Kestrel:Endpoints:<name>:… and Kestrel:Limits:… are checked";
        }

        var setting = string.Join(':', segments[3..]);
        string[] certificate = ["Path", "KeyPath", "Password", "Subject", "Store", "Location", "AllowInvalid"];
        return setting.ToUpperInvariant() switch
        {
            "URL" => value is null || Uri.TryCreate(value.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal), UriKind.Absolute, out var url) && url.Scheme is "http" or "https"
                ? null : $"{key}: '{value}' is not an http or https URL",
            "PROTOCOLS" => value is null || Enum.TryParse<Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols>(value, ignoreCase: true, out _)
                ? null : $"{key}: '{value}' is not an HttpProtocols value",
            _ when segments.Length == 5 && segments[3].Equals("Certificate", StringComparison.OrdinalIgnoreCase)
                && certificate.Contains(segments[4], StringComparer.OrdinalIgnoreCase) => null,
            _ => $"{key}: not a Kestrel endpoint setting",
        };
    }

    private static string? Walk(Type type, string[] segments, int index, string? value, string key)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (index == segments.Length)
        {
            if (!IsScalar(type))
            {
                return $"{key} names a {type.Name}, not a value";
            }

            try
            {
                if (value is not null && type != typeof(string))
                {
                    _ = TypeDescriptor.GetConverter(type).ConvertFromInvariantString(value);
                }
            }
            catch (Exception e) when (e is FormatException or NotSupportedException or ArgumentException)
            {
                return $"{key}: '{value}' is not a {type.Name}";
            }

            return null;
        }

        var segment = segments[index];
        if (DictionaryValueType(type) is { } valueType)
        {
            return Walk(valueType, segments, index + 1, value, key);
        }

        if (ElementType(type) is { } elementType)
        {
            return int.TryParse(segment, out _) ? Walk(elementType, segments, index + 1, value, key) : $"{key}: '{segment}' is not an index";
        }

        var property = type.GetProperty(segment, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
        return property is null
            ? $"{key}: {type.Name} has no property '{segment}'"
            : Walk(property.PropertyType, segments, index + 1, value, key);
    }

    private static bool IsScalar(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
        || type == typeof(Uri) || type == typeof(DateTimeOffset) || type == typeof(DateTime);

    private static Type? DictionaryValueType(Type type) =>
        new[] { type }.Concat(type.GetInterfaces())
            .Where(i => i.IsGenericType && (i.GetGenericTypeDefinition() == typeof(IDictionary<,>) || i.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>)))
            .Select(i => i.GetGenericArguments()[1])
            .FirstOrDefault();

    private static Type? ElementType(Type type) =>
        type == typeof(string) ? null
        : type.IsArray ? type.GetElementType()
        : typeof(IEnumerable).IsAssignableFrom(type) && type.IsGenericType ? type.GetGenericArguments()[0]
        : null;

    private static IEnumerable<Type> LoadableTypes(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            return e.Types.OfType<Type>();
        }
    }
}
