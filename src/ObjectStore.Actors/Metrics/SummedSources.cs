namespace ObjectStore.Actors.Metrics;

/// <summary>
/// A gauge's value: the sum, read on each scrape, of sources that come and go — an actor that restarts
/// registers again, and the nodes of one process (`objectstore local`, tests) stop one by one. A source is
/// counted until its registration is disposed; without that, a restarted repair actor's old count stayed in
/// the sum for good.
/// </summary>
internal sealed class SummedSources
{
    private readonly List<Func<long>> _sources = [];

    /// <summary>Counts <paramref name="source"/> until the returned registration is disposed.</summary>
    public IDisposable Add(Func<long> source)
    {
        lock (_sources) _sources.Add(source);
        return new Registration(this, source);
    }

    public long Sum()
    {
        lock (_sources) return _sources.Sum(s => s());
    }

    private void Remove(Func<long> source)
    {
        lock (_sources) _sources.Remove(source);
    }

    private sealed class Registration(SummedSources owner, Func<long> source) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) owner.Remove(source);
        }
    }
}
