using System.ComponentModel.DataAnnotations;
using System.Net;
using Npgsql;

namespace Ecg2Af.Worker.Audit;

/// <summary>The audit trail: where records go and who may read them. Section <c>Audit</c>.</summary>
public sealed class AuditOptions : IValidatableObject
{
    public const string Section = "Audit";

    /// <summary>
    /// SQLite database file, used when no PostgreSQL connection string is set. Workers on one machine may share it
    /// (WAL mode). Relative paths are taken from the working directory.
    /// </summary>
    [Required]
    public string SqlitePath { get; set; } = "data/audit.db";

    /// <summary>PostgreSQL (Npgsql) connection string; when set, records go to PostgreSQL instead of SQLite.</summary>
    public string? PostgresConnectionString { get; set; }

    /// <summary>
    /// True: the worker refuses to start unless <see cref="PostgresConnectionString"/> is set, so a deployment whose
    /// database secret is missing fails loudly instead of auditing to a local SQLite file that dies with the pod
    /// (the Kubernetes manifests set it). Default false.
    /// </summary>
    public bool RequirePostgres { get; set; }

    /// <summary>How long a SQLite write waits for another process holding the write lock.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:05:00")]
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest wait for one record to commit before the request is answered 503.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// True (default): a request whose record cannot be committed is answered 503 and its result is withheld.
    /// False: the result is served anyway and the lost record is logged (without personal data).
    /// </summary>
    public bool RequireCommit { get; set; } = true;

    /// <summary>
    /// Replaced by an API key with the <c>admin</c> scope in <c>Security:ApiKeys</c>; still read only so that an old
    /// configuration stops start-up with a message saying so instead of silently losing its audit access.
    /// </summary>
    public string? AdminApiKey { get; set; }

    /// <summary>
    /// Proxies (IP addresses or CIDR ranges) whose <c>X-Forwarded-For</c> is believed, besides 127.0.0.1 and ::1
    /// (the gateway on the same machine).
    /// </summary>
    public string[] TrustedProxies { get; set; } = [];

    /// <summary>
    /// Records older than this many days are deleted by a background job (every <see cref="RetentionInterval"/>,
    /// and once at start-up). Unset (default): records are kept until erased. 1 to 36,500.
    /// </summary>
    [Range(1, 36_500)]
    public int? RetentionDays { get; set; }

    /// <summary>How often the retention job runs. 1 s to 1 day, default 1 h.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Most records one audit query returns.</summary>
    [Range(1, 1_000_000)]
    public int MaxQueryRecords { get; set; } = 10_000;

    public bool UsesPostgres => !string.IsNullOrWhiteSpace(PostgresConnectionString);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrEmpty(AdminApiKey))
        {
            yield return new ValidationResult(
                "Audit:AdminApiKey is no longer used: create a key with the admin scope (ecg2af keys create --id NAME --scopes admin) and add it to Security:ApiKeys.",
                [nameof(AdminApiKey)]);
        }

        if (RequirePostgres && !UsesPostgres)
        {
            yield return new ValidationResult("Audit:RequirePostgres is true but Audit:PostgresConnectionString is not set (the records would go to a local SQLite file).", [nameof(PostgresConnectionString)]);
        }

        if (UsesPostgres && !IsConnectionString(PostgresConnectionString!))
        {
            yield return new ValidationResult("Audit:PostgresConnectionString is not a valid Npgsql connection string.", [nameof(PostgresConnectionString)]);
        }

        foreach (var proxy in TrustedProxies)
        {
            if (!IPAddress.TryParse(proxy, out _) && !IPNetwork.TryParse(proxy, out _))
            {
                yield return new ValidationResult($"Audit:TrustedProxies entry '{proxy}' is neither an IP address nor a CIDR range.", [nameof(TrustedProxies)]);
            }
        }
    }

    private static bool IsConnectionString(string value)
    {
        try
        {
            // Parsed only; the message (which may quote the string, password included) is never shown.
            _ = new NpgsqlConnectionStringBuilder(value);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
