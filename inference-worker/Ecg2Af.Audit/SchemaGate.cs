namespace Ecg2Af.Audit;

/// <summary>
/// Runs a store's schema creation once it has succeeded; a failed attempt (store down at start-up) is retried by the
/// next caller instead of being remembered.
/// </summary>
internal sealed class SchemaGate(Func<CancellationToken, Task> create) : IDisposable
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private volatile bool _created;

    public async Task EnsureAsync(CancellationToken cancellationToken)
    {
        if (_created)
        {
            return;
        }

        await _lock.WaitAsync(cancellationToken);
        try
        {
            if (!_created)
            {
                await create(cancellationToken);
                _created = true;
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    public void Dispose() => _lock.Dispose();
}
