using System.Diagnostics.Metrics;

namespace ObjectStore.Actors.Metrics;

/// <summary>
/// The node's measurements on the meter "ObjectStore" (System.Diagnostics.Metrics): `dotnet-counters monitor
/// --counters ObjectStore` reads them with no setting, and `objectstore.metrics.port` serves them to
/// Prometheus. One meter per process: the nodes of `objectstore local` add up.
/// </summary>
public static class StoreMetrics
{
    public const string MeterName = "ObjectStore";

    private static readonly Meter Meter = new(MeterName, typeof(StoreMetrics).Assembly.GetName().Version?.ToString());

    public static readonly Counter<long> BytesIn = Meter.CreateCounter<long>("bytes.in", "By", "object bytes taken in by puts");
    public static readonly Counter<long> BytesOut = Meter.CreateCounter<long>("bytes.out", "By", "object bytes given out by gets");
    public static readonly Counter<long> Puts = Meter.CreateCounter<long>("puts", "{put}", "puts answered, by outcome");
    public static readonly Counter<long> Gets = Meter.CreateCounter<long>("gets", "{get}", "gets answered, by outcome");
    public static readonly Counter<long> Deletes = Meter.CreateCounter<long>("deletes", "{delete}", "deletes answered");
    public static readonly Histogram<double> PutSeconds = Meter.CreateHistogram<double>("put.duration", "s", "time from a put's start to its answer");
    public static readonly Histogram<double> GetSeconds = Meter.CreateHistogram<double>("get.duration", "s", "time from a get's start to its last byte");
    public static readonly Counter<long> ChunksStored = Meter.CreateCounter<long>("chunks.stored", "{chunk}", "chunk files written and made durable");
    public static readonly Counter<long> ChunksDeduplicated = Meter.CreateCounter<long>("chunks.deduplicated", "{chunk}", "chunks a put sent that a node held already");
    public static readonly Counter<long> Transfers = Meter.CreateCounter<long>("transfers", "{transfer}", "chunk pushes to other nodes that succeeded");
    public static readonly Counter<long> TransferRetries = Meter.CreateCounter<long>("transfer.retries", "{attempt}", "chunk push attempts that failed and were retried or given up");
    public static readonly Counter<long> TransferFailures = Meter.CreateCounter<long>("transfer.failures", "{transfer}", "chunk pushes given up after their retries (the chunk is handed off)");
    public static readonly Counter<long> HandOffs = Meter.CreateCounter<long>("handoffs", "{chunk}", "chunks written to a node other than their owner, for an owner that failed");

    private static readonly SummedSources QueuedCopies = new(), Quarantined = new();

    static StoreMetrics()
    {
        Meter.CreateObservableGauge("copies.queued", QueuedCopies.Sum, "{copy}", "object versions short of a copy on some node (the repair queue)");
        Meter.CreateObservableGauge("chunks.quarantined", Quarantined.Sum, "{chunk}", "chunk files found corrupt and set aside");
    }

    /// <summary>A node's repair queue length, read on each scrape until the registration is disposed.</summary>
    public static IDisposable ObserveQueuedCopies(Func<long> source) => QueuedCopies.Add(source);

    /// <summary>A node's count of quarantined chunk files, read on each scrape until the registration is disposed.</summary>
    public static IDisposable ObserveQuarantined(Func<long> source) => Quarantined.Add(source);
}
