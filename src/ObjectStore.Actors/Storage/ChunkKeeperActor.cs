using Akka.Actor;
using Akka.Event;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;
using ObjectStore.Core.Storage;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.ChunkStorageProtocol;

namespace ObjectStore.Actors.Storage;

/// <summary>
/// Decides which chunk files a node keeps (<c>/user/chunk-keeper</c>): it pins each chunk a put stores or
/// claims here for that put (persisted in index.db through <see cref="ChunkLedger"/>, with the put's lease),
/// lets go when the put ends or its lease runs out, and deletes a chunk only when no object version
/// references it and no put has it pinned. At start it sweeps what a crash left: temp files, and chunks
/// nothing references or pins. It is the door to its child <see cref="ChunkWriterActor"/>, so that a
/// chunk is always pinned before it is written or claimed and a delete can never race a write.
/// </summary>
/// <remarks>Runs under a backoff supervisor: a failure of index.db restarts it (reopening the ledger).</remarks>
public sealed class ChunkKeeperActor : ReceiveActor, IWithTimers
{
    public const string Name = "chunk-keeper";

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly StoreSettings _settings;
    private readonly ChunkStore _store;
    private readonly string _nodeId;
    private readonly DateTime _nodeStartedUtc;
    private ChunkLedger _ledger = null!;
    private IActorRef _writer = ActorRefs.Nobody;
    private bool _flushQueued;
    private static readonly TimeSpan FlushRetry = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long changes to the pins may wait before they are written. Writing them after every burst of
    /// chunks cost a SQLite transaction per chunk and per small put on every node (docs/BENCHMARKS.md);
    /// now a quick put of one chunk writes nothing, and others write at most this often, and a put of
    /// several chunks also before its commit. What a crash can lose is the pins of the last moments, which only matter to a put that
    /// commits on this node after its restart, and a restart after a crash takes longer than a commit waits.
    /// </summary>
    private static readonly TimeSpan FlushDelay = TimeSpan.FromMilliseconds(100);

    public ITimerScheduler Timers { get; set; } = null!;

    private sealed record FlushLedger : ILocalMessage
    {
        public static readonly FlushLedger Instance = new();
    }

    /// <summary>Sweep for chunk files nothing references or pins (every repair.gc-interval). Replies GarbageCollected when asked.</summary>
    public sealed record CollectGarbage : ILocalMessage
    {
        public static readonly CollectGarbage Instance = new();
    }

    public sealed record GarbageCollected(int Removed, long Kept) : ILocalMessage;

    private sealed record ExpireLeases : ILocalMessage
    {
        public static readonly ExpireLeases Instance = new();
    }

    public ChunkKeeperActor(StoreSettings settings, ChunkStore store, string nodeId, DateTime nodeStartedUtc)
    {
        _settings = settings;
        _store = store;
        _nodeId = nodeId;
        _nodeStartedUtc = nodeStartedUtc;

        Receive<StoreChunk>(m =>
        {
            Pin(m.UploadId, m.Id);
            _writer.Forward(m);
        });
        Receive<ClaimChunk>(m =>
        {
            Pin(m.UploadId, m.Id);
            _writer.Forward(m);
        });
        Receive<WhichChunks>(m => _writer.Forward(m));
        Receive<ExtendUpload>(m =>
        {
            _ledger.Extend(m.UploadId, LeaseEnd);
            QueueFlush();
        });
        Receive<ReleaseUpload>(m => Release(m.UploadId));
        Receive<CollectChunks>(m =>
        {
            Collect(m.Ids);
            if (m.Reply is not null) m.ReplyTo?.Tell(m.Reply);
        });
        Receive<ShedChunks>(m =>
        {
            foreach (var id in m.Ids.Where(id => !_ledger.IsPinned(id)))
            {
                try
                {
                    _store.Delete(id);
                }
                catch (IOException e)
                {
                    _log.Warning("could not delete chunk {0}, which this node does not own: {1}", id, e.Message);
                }
            }
        });
        Receive<CommitNotingMissing>(HandleCommit);
        Receive<FlushLedger>(_ =>
        {
            _flushQueued = false;
            Flush();
        });
        Receive<CollectGarbage>(_ =>
        {
            var (removed, kept) = RemoveUnreferenced(DateTime.UtcNow - _settings.Repair.GcGrace);
            if (removed > 0) _log.Info("garbage collection: removed {0} chunk file(s) nothing references, {1} kept", removed, kept);
            if (!Sender.IsNobody()) Sender.Tell(new GarbageCollected(removed, kept));
        });
        Receive<ExpireLeases>(_ =>
        {
            foreach (var upload in _ledger.Expired(DateTimeOffset.UtcNow))
            {
                _log.Info("put {0} sent no news for {1}; the chunks kept for it are let go", upload, _settings.Replication.PinLease);
                Release(upload);
            }
        });
    }

    public static Props Props(StoreSettings settings, ChunkStore store, string nodeId, DateTime nodeStartedUtc) =>
        ActorProps.Of(() => new ChunkKeeperActor(settings, store, nodeId, nodeStartedUtc));

    private DateTimeOffset LeaseEnd => DateTimeOffset.UtcNow + _settings.Replication.PinLease;

    protected override void PreStart()
    {
        _ledger = new ChunkLedger(_settings.DataDirectory) { LeaseSlack = _settings.Replication.PinLease / 4 };
        var temps = _store.RemoveLeftoverTempFiles();
        var (orphans, chunks) = RemoveUnreferenced(_nodeStartedUtc);
        _store.StartCount(chunks);
        _log.Info("chunk store ready at {0}: {1} chunks, {2} puts in progress; removed {3} leftover temp files and {4} unreferenced chunks",
            _store.Root, chunks, _ledger.UploadCount, temps, orphans);
        _writer = Context.ActorOf(ChunkWriterActor.Props(_store, _nodeId, _settings.IoParallelism), "writer");
        var lease = _settings.Replication.PinLease;
        var every = TimeSpan.FromTicks(Math.Clamp(lease.Ticks / 4, TimeSpan.FromSeconds(1).Ticks, TimeSpan.FromMinutes(1).Ticks));
        Self.Tell(ExpireLeases.Instance);
        Timers.StartPeriodicTimer(nameof(ExpireLeases), ExpireLeases.Instance, every);
        Timers.StartPeriodicTimer(nameof(CollectGarbage), CollectGarbage.Instance, _settings.Repair.GcInterval);
    }

    protected override void PostStop()
    {
        try
        {
            _ledger?.Flush();
        }
        catch (Exception e)
        {
            _log.Warning("could not save the pins of puts in progress: {0}", e.Message);
        }
        _ledger?.Dispose();
    }

    /// <summary>
    /// Deletes chunk files that no object references and no put pins, and that were last written before
    /// <paramref name="olderThan"/>: at start the node's start time (what a killed put left behind), then
    /// periodically now minus gc-grace. Newer ones may belong to a put in progress (a restarted keeper, a
    /// chunk written before its pin was saved); pinned ones belong to a put whose lease has not ended.
    /// Returns how many it removed and how many remain.
    /// </summary>
    private (int Removed, long Kept) RemoveUnreferenced(DateTime olderThan)
    {
        var referenced = _ledger.ReferencedChunks();
        var (removed, kept) = (0, 0L);
        foreach (var id in _store.EnumerateChunks().ToList())
        {
            if (referenced.Contains(id) || _ledger.IsPinned(id) || File.GetLastWriteTimeUtc(_store.PathOf(id)) >= olderThan)
            {
                kept++;
                continue;
            }
            try
            {
                if (_store.Delete(id)) removed++;
            }
            catch (IOException e)
            {
                _log.Warning("could not delete unreferenced chunk {0}: {1}", id, e.Message);
            }
        }
        return (removed, kept);
    }

    private void Pin(string upload, ContentHash id)
    {
        _ledger.Pin(upload, id, LeaseEnd);
        QueueFlush();
    }

    private void Flush()
    {
        try
        {
            _ledger.Flush();
        }
        catch (Microsoft.Data.Sqlite.SqliteException e)
        {
            // A full disk, say. The pins in memory still hold while the node runs; only a crash before the
            // next successful flush would forget them. Retried, not thrown: a restart would forget them now.
            _log.Warning("could not save the pins of puts in progress ({0}); retrying in {1}", e.Message, FlushRetry);
            _flushQueued = true;
            Timers.StartSingleTimer(nameof(FlushLedger), FlushLedger.Instance, FlushRetry);
        }
    }

    /// <summary>Changes reach index.db in one transaction, at most <see cref="FlushDelay"/> later.</summary>
    private void QueueFlush()
    {
        if (_flushQueued) return;
        _flushQueued = true;
        Timers.StartSingleTimer(nameof(FlushLedger), FlushLedger.Instance, FlushDelay);
    }

    private void Release(string upload)
    {
        Collect(_ledger.Release(upload));
        QueueFlush();
    }

    /// <summary>Deletes each chunk that nothing references and no put pins; asks index.db afresh, since a commit may have landed since.</summary>
    private void Collect(IReadOnlyCollection<ContentHash> candidates)
    {
        foreach (var id in candidates)
        {
            if (_ledger.IsPinned(id) || _ledger.IsReferenced(id)) continue;
            try
            {
                _store.Delete(id);
            }
            catch (IOException e)
            {
                _log.Warning("could not delete unreferenced chunk {0}: {1}", id, e.Message);
            }
        }
    }

    /// <summary>
    /// Passes a put's commit on to the index, saying which of the chunks the put left here are not on disk:
    /// a transfer the put gave up on (its node was slow), or a chunk lost since. The metadata is committed
    /// either way; the put does not count this node for those chunks, and their copies are repaired.
    /// </summary>
    private void HandleCommit(CommitNotingMissing m)
    {
        var upload = m.Commit.UploadId;
        // A put of several chunks has its pins in index.db before its commit.
        if (_ledger.ShouldSaveBeforeCommit(upload)) Flush();
        var missing = _ledger.PinsOf(upload).Where(id => !_store.Contains(id)).ToList();
        m.Index.Forward(missing.Count == 0 ? m.Commit : m.Commit with { Missing = missing });
    }
}
