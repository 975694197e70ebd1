namespace Ecg2Af.Client;

/// <summary>Where the client sends its requests and how it authenticates, waits and retries.</summary>
public sealed class Ecg2AfClientOptions
{
    /// <summary>The gateway (or a worker), e.g. <c>http://127.0.0.1:8080/</c>. Paths are resolved against it.</summary>
    public required Uri BaseAddress { get; set; }

    /// <summary>
    /// The API key, sent as <c>Authorization: Bearer &lt;key&gt;</c>. Null sends none (the web form's
    /// <c>POST /api/v1/predictions</c> works without a key when a name and email are given).
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// How long one call may take in all, retries and waits included. The time left is also sent to the service as
    /// <c>X-Ecg2Af-Deadline-Ms</c>, so it drops work nobody waits for. Null: no deadline beyond the HTTP client's own timeout.
    /// </summary>
    public TimeSpan? Deadline { get; set; }

    /// <summary>Retries of a request refused for load (503, 429, 502) before the refusal is thrown. Zero turns retries off.</summary>
    public int MaxRetries { get; set; } = 5;

    /// <summary>The longest wait between tries, whatever <c>Retry-After</c> says.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The wait before the first retry when the answer has no <c>Retry-After</c>; it doubles with each retry.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);
}
