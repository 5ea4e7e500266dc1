using Akka.Actor;
using Akka.Event;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;
using ObjectStore.Core.Storage;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.StorageProtocol;

namespace ObjectStore.Actors.Storage;

/// <summary>
/// The only actor that touches the node's data directory: chunk files and the object index. Index
/// operations run on the actor (they are short, and one writer keeps SQLite simple); chunk writes and
/// reads, which fsync or hash megabytes, run on I/O tasks that it starts and whose results come back to
/// it as messages, at most <see cref="StoreSettings.IoParallelism"/> at a time.
/// </summary>
/// <remarks>
/// Runs under a backoff supervisor: an index failure answers the request with an error and then
/// restarts this actor (reopening the database) after a growing delay. A chunk I/O failure answers
/// the request that caused it and leaves the actor running.
/// </remarks>
public sealed class StorageActor : ReceiveActor, IWithTimers
{
    /// <summary>Drop delete markers older than <see cref="ReplicationSettings.DeleteMarkerTtl"/> (sent hourly by a timer, and at start).</summary>
    public sealed record ExpireDeleteMarkers : ILocalMessage
    {
        public static readonly ExpireDeleteMarkers Instance = new();
    }

    private static readonly TimeSpan DeleteMarkerSweep = TimeSpan.FromHours(1);

    public ITimerScheduler Timers { get; set; } = null!;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly StoreSettings _settings;
    private readonly string _nodeId;
    private readonly IStorageFaults? _faults;
    private readonly DateTime _nodeStartedUtc;
    private ChunkStore _chunks = null!;
    private ObjectIndex _index = null!;

    private readonly Dictionary<string, HashSet<ContentHash>> _pinsByUpload = new();
    private readonly Queue<Func<Task<object>>> _pendingIo = new();
    private int _ioRunning;
    // Writes and reads (at most io-parallelism at once) and the group commit: one thread each.
    private readonly BlockingIoScheduler _io;

    private readonly List<(IActorRef ReplyTo, ChunkStored Stored)> _awaitingCommit = [];
    private readonly List<ChunkStore.PendingChunk> _toCommit = [];
    private readonly HashSet<ContentHash> _uncommitted = [];
    private bool _commitRunning;
    private long _chunkCount;

    public StorageActor(StoreSettings settings, string nodeId, DateTime nodeStartedUtc, IStorageFaults? faults = null)
    {
        _nodeStartedUtc = nodeStartedUtc;
        _settings = settings;
        _io = new BlockingIoScheduler(settings.IoParallelism + 1, "storage I/O");
        _nodeId = nodeId;
        _faults = faults;

        Receive<StoreChunk>(HandleStoreChunk);
        Receive<IoDone>(HandleIoDone);
        Receive<GroupCommitted>(HandleGroupCommitted);
        Receive<ReadChunk>(m => EnqueueIo(ReadTask(m.Id, Sender)));
        Receive<CommitObject>(HandleCommit);
        Receive<FlushCommits>(_ => HandleFlushCommits());
        Receive<ReleaseUpload>(HandleReleaseUpload);
        Receive<GetManifest>(m => Sender.Tell(_index.TryGet(m.Bucket, m.Key) is { } manifest
            ? new ManifestFound(manifest)
            : NotFound(m.Bucket, m.Key)));
        Receive<ListBuckets>(_ => Sender.Tell(new BucketListing(
            _index.ListBuckets().Select(b => new BucketInfo(b.Bucket, b.Objects, b.Bytes)).ToList())));
        Receive<DeleteMarker>(HandleDelete);
        Receive<ReplicaProtocol.ListLocalObjects>(HandleListLocal);
        Receive<FindVersion>(m => Sender.Tell(new VersionFound(_index.TryGet(m.Bucket, m.Key), _index.TryGetDeleteMarker(m.Bucket, m.Key))));
        Receive<GetNodeStatus>(_ => Sender.Tell(new NodeStatus(_nodeId, _index.ObjectCount(), _chunkCount)));
        Receive<ClaimChunk>(HandleClaim);
        Receive<ChunkTransferProtocol.WhichChunks>(m => Sender.Tell(new ChunkTransferProtocol.ChunksHeld(_nodeId,
            m.Ids.Distinct().Where(id => _chunks.Contains(id) && !_uncommitted.Contains(id)).ToList())));
        Receive<DropVersion>(HandleDropVersion);
        Receive<ExpireDeleteMarkers>(_ =>
        {
            var expired = _index.ExpireDeleteMarkers(DateTimeOffset.UtcNow - _settings.Replication.DeleteMarkerTtl);
            if (expired > 0) _log.Info("dropped {0} delete marker(s) older than {1}", expired, _settings.Replication.DeleteMarkerTtl);
        });
    }

    /// <param name="nodeStartedUtc">When the node (not this actor, which a backoff restart recreates) started.</param>
    public static Props Props(StoreSettings settings, string nodeId, DateTime nodeStartedUtc, IStorageFaults? faults = null) =>
        Akka.Actor.Props.Create(() => new StorageActor(settings, nodeId, nodeStartedUtc, faults));

    protected override void PreStart()
    {
        _chunks = new ChunkStore(_settings.DataDirectory, _settings.Fsync, _faults, _settings.DirectIo);
        _index = new ObjectIndex(_settings.DataDirectory);
        var temps = _chunks.RemoveLeftoverTempFiles();
        var orphans = RemoveOrphanChunks();
        _log.Info("storage ready at {0}: {1} objects; removed {2} leftover temp files and {3} unreferenced chunks",
            _chunks.Root, _index.ObjectCount(), temps, orphans);
        Self.Tell(ExpireDeleteMarkers.Instance);
        Timers.StartPeriodicTimer(nameof(ExpireDeleteMarkers), ExpireDeleteMarkers.Instance, DeleteMarkerSweep);
    }

    protected override void PostStop()
    {
        _index?.Dispose();
        _io.Dispose();
    }

    /// <summary>
    /// Deletes chunk files that no object references and that predate the node's start: what a killed
    /// put left behind. Newer ones may belong to an upload in progress when this actor is restarted
    /// after a failure. Counts the chunks that remain.
    /// </summary>
    private int RemoveOrphanChunks()
    {
        var referenced = _index.ReferencedChunks();
        var removed = 0;
        _chunkCount = 0;
        foreach (var id in _chunks.EnumerateChunks())
        {
            if (!referenced.Contains(id) && File.GetLastWriteTimeUtc(_chunks.PathOf(id)) < _nodeStartedUtc)
            {
                _chunks.Delete(id);
                removed++;
                continue;
            }
            _chunkCount++;
        }
        return removed;
    }

    private void Pin(ContentHash id, string uploadId)
    {
        if (!_pinsByUpload.TryGetValue(uploadId, out var pins)) _pinsByUpload[uploadId] = pins = [];
        pins.Add(id);
    }

    private void HandleClaim(ClaimChunk m)
    {
        var present = _chunks.Contains(m.Id) && !_uncommitted.Contains(m.Id);
        if (present) Pin(m.Id, m.UploadId);
        Sender.Tell(new ChunkClaim(m.Id, present));
    }

    private void HandleStoreChunk(StoreChunk m)
    {
        Pin(m.Id, m.UploadId);
        var replyTo = Sender;
        var store = _chunks;
        EnqueueIo(() => _io.Run<object>(() =>
        {
            using (m.Data)
            {
                try
                {
                    var written = store.WriteTemp(m.Id, m.Data);
                    if (written is not null) CrashFailpoint.ChunkWritten();
                    return new IoDone(replyTo, new ChunkWritten(m.Id, m.Data.Length, written));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    return new IoDone(replyTo, new ChunkStoreFailed(m.Id, $"cannot store chunk {m.Id.ToShortString()}: {e.Message}"));
                }
            }
        }));
    }

    private Func<Task<object>> ReadTask(ContentHash id, IActorRef replyTo)
    {
        var store = _chunks;
        return () => _io.Run<object>(() =>
        {
            try
            {
                return new IoDone(replyTo, new ChunkRead(id, store.Read(id)));
            }
            catch (ChunkCorruptException e)
            {
                return new IoDone(replyTo, new StoreError(StoreErrorCode.Corrupt, e.Message));
            }
            catch (ChunkMissingException e)
            {
                return new IoDone(replyTo, new StoreError(StoreErrorCode.NotFound, e.Message));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return new IoDone(replyTo, new StoreError(StoreErrorCode.StorageFailure, $"cannot read chunk {id.ToShortString()}: {e.Message}"));
            }
        });
    }

    private void EnqueueIo(Func<Task<object>> io)
    {
        _pendingIo.Enqueue(io);
        StartIo();
    }

    private void StartIo()
    {
        while (_ioRunning < _settings.IoParallelism && _pendingIo.TryDequeue(out var io))
        {
            _ioRunning++;
            io().PipeTo(Self, failure: e => new IoDone(ActorRefs.Nobody, new StoreError(StoreErrorCode.StorageFailure, e.Message)));
        }
    }

    private void HandleIoDone(IoDone m)
    {
        _ioRunning--;
        if (m.Reply is StoreError { Code: StoreErrorCode.Corrupt }) _chunkCount--; // moved to quarantine
        if (m.Reply is ChunkWritten written)
        {
            m.ReplyTo.Tell(new ChunkBufferReleased(written.Id));
            AfterWrite(m.ReplyTo, written);
        }
        else
            m.ReplyTo.Tell(m.Reply);
        StartIo();
    }

    /// <summary>
    /// A chunk is in a temp file; it becomes durable and visible in the next group commit. One commit
    /// task runs at a time and takes every chunk written since the last one started. A chunk found
    /// already present while a commit of it may still be running waits for the next commit, so no
    /// put is ever acknowledged on a chunk that a power cut could take away.
    /// </summary>
    private void AfterWrite(IActorRef replyTo, ChunkWritten m)
    {
        var written = m.Pending is not null;
        var reply = new ChunkStored(m.Id, m.Length, written);
        if (!written && !_uncommitted.Contains(m.Id))
        {
            replyTo.Tell(reply);
            return;
        }
        if (m.Pending is not null)
        {
            _uncommitted.Add(m.Id);
            _toCommit.Add(m.Pending);
        }
        _awaitingCommit.Add((replyTo, reply));
        StartGroupCommit();
    }

    private void StartGroupCommit()
    {
        if (_commitRunning || _awaitingCommit.Count == 0) return;
        _commitRunning = true;
        var waiting = _awaitingCommit.ToList();
        var chunks = _toCommit.ToList();
        _awaitingCommit.Clear();
        _toCommit.Clear();
        var store = _chunks;
        _io.Run<object>(() =>
        {
            try
            {
                var added = store.MakeDurable(chunks);
                return new GroupCommitted(waiting, chunks, added, null);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return new GroupCommitted(waiting, chunks, 0, e.Message);
            }
        }).PipeTo(Self);
    }

    private void HandleGroupCommitted(GroupCommitted m)
    {
        _commitRunning = false;
        _chunkCount += m.Added;
        foreach (var chunk in m.Chunks) _uncommitted.Remove(chunk.Id);
        // A chunk whose upload ended (failed) while its commit ran is pinned by no one and referenced by
        // nothing: delete it now rather than leave it until the next start.
        CollectGarbage(m.Chunks.Select(c => c.Id).Where(id => !IsPinned(id) && !_index.IsReferenced(id)).ToList());
        foreach (var (replyTo, stored) in m.Waiting)
        {
            replyTo.Tell(m.Error is null
                ? stored
                : new ChunkStoreFailed(stored.Id, $"cannot store chunk {stored.Id.ToShortString()}: {m.Error}"));
        }
        StartGroupCommit();
    }

    private void HandleCommit(CommitObject m)
    {
        var manifest = m.Manifest;
        // The chunks this node stored (or claimed) for the put must still be here; the others live on
        // the nodes the put placed them on.
        foreach (var id in _pinsByUpload.GetValueOrDefault(m.UploadId) ?? [])
        {
            if (_chunks.Contains(id)) continue;
            Sender.Tell(new StoreError(StoreErrorCode.StorageFailure,
                $"cannot commit {manifest.Bucket}/{manifest.Key}: chunk {id.ToShortString()} is no longer on disk; run the put again"));
            return;
        }
        // Commits that arrive together are written in one transaction (one flush of the index): the
        // flush message goes behind every commit already in the mailbox.
        _commitsQueued.Add((manifest, Sender));
        if (_commitsQueued.Count == 1) Self.Tell(FlushCommits.Instance);
    }

    private readonly List<(ObjectManifest Manifest, IActorRef ReplyTo)> _commitsQueued = [];

    private sealed record FlushCommits : ILocalMessage
    {
        public static readonly FlushCommits Instance = new();
    }

    private void HandleFlushCommits()
    {
        var batch = _commitsQueued.ToList();
        _commitsQueued.Clear();
        if (batch.Count > 1)
        {
            try
            {
                var results = _index.CommitMany(batch.Select(b => b.Manifest).ToList(), m => _faults?.BeforeCommit(m.Bucket, m.Key));
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].ReplyTo.Tell(new ObjectCommitted(batch[i].Manifest, results[i].Current));
                    CollectGarbage(results[i].Unreferenced);
                }
                return;
            }
            catch (Exception e)
            {
                _log.Warning("index commit of {0} objects failed ({1}); committing them one by one", batch.Count, e.Message);
            }
        }
        // One by one, so a manifest that cannot be committed fails alone; then restart, reopening the index.
        Exception? failure = null;
        foreach (var (manifest, replyTo) in batch)
        {
            try
            {
                _faults?.BeforeCommit(manifest.Bucket, manifest.Key);
                var result = _index.Commit(manifest);
                replyTo.Tell(new ObjectCommitted(manifest, result.Current));
                CollectGarbage(result.Unreferenced);
            }
            catch (Exception e)
            {
                replyTo.Tell(new StoreError(StoreErrorCode.StorageFailure, $"cannot commit {manifest.Bucket}/{manifest.Key}: {e.Message}"));
                failure ??= e;
            }
        }
        if (failure is not null) throw failure;
    }

    private void HandleDropVersion(DropVersion m)
    {
        IReadOnlyList<ContentHash>? unreferenced;
        try
        {
            unreferenced = _index.DropVersion(m.Bucket, m.Key, m.VersionId);
        }
        catch (Exception e)
        {
            Sender.Tell(new StoreError(StoreErrorCode.StorageFailure, $"cannot drop {m.Bucket}/{m.Key}: {e.Message}"));
            throw;
        }
        Sender.Tell(new ReplicaProtocol.ReplicaDropped(m.VersionId));
        if (unreferenced is not null) CollectGarbage(unreferenced);
    }

    private void HandleDelete(DeleteMarker m)
    {
        IReadOnlyList<ContentHash>? unreferenced;
        try
        {
            unreferenced = _index.Delete(m);
        }
        catch (Exception e)
        {
            Sender.Tell(new StoreError(StoreErrorCode.StorageFailure, $"cannot delete {m.Bucket}/{m.Key}: {e.Message}"));
            throw;
        }
        if (unreferenced is null)
        {
            Sender.Tell(NotFound(m.Bucket, m.Key));
            return;
        }
        Sender.Tell(new ObjectDeleted(m.Bucket, m.Key));
        CollectGarbage(unreferenced);
    }

    /// <summary>A page of this node's objects and the delete markers in the same key range.</summary>
    private void HandleListLocal(ReplicaProtocol.ListLocalObjects m)
    {
        var limit = Math.Clamp(m.Limit, 1, 10_000);
        var rows = _index.List(m.Bucket, m.Prefix, limit + 1, m.StartAfter).Select(ToInfo).ToList();
        var (page, truncated) = ListingPage.Fit(rows, limit);
        var upTo = truncated && page.Count > 0 ? page[^1].Key : null;
        var markers = _index.ListDeleteMarkers(m.Bucket, m.Prefix, m.StartAfter, upTo);
        Sender.Tell(new ReplicaProtocol.LocalListing(m.Bucket, page, markers, truncated));
    }

    /// <summary>
    /// An upload ended. If it failed, the chunks it stored that no object references are deleted
    /// now, so a failed put (a full disk, a dropped client) gives its space back at once.
    /// </summary>
    private void HandleReleaseUpload(ReleaseUpload m)
    {
        if (!_pinsByUpload.Remove(m.UploadId, out var pins)) return;
        CollectGarbage(pins.Where(id => !_index.IsReferenced(id)).ToList());
    }

    /// <summary>Deletes chunks no object references, except those an upload in progress has stored.</summary>
    private void CollectGarbage(IEnumerable<ContentHash> unreferenced)
    {
        foreach (var id in unreferenced)
        {
            if (IsPinned(id)) continue;
            try
            {
                if (_chunks.Delete(id)) _chunkCount--;
            }
            catch (IOException e) { _log.Warning("could not delete unreferenced chunk {0}: {1}", id, e.Message); }
        }
    }

    private bool IsPinned(ContentHash id) => _pinsByUpload.Values.Any(pins => pins.Contains(id));

    internal static ObjectInfo ToInfo(ObjectManifest m) =>
        new(m.Bucket, m.Key, m.VersionId, m.Size, m.Sha256, m.Created.ToUnixTimeMilliseconds(), m.Chunks.Count, m.Writer);

    private static ObjectInfo ToInfo(ObjectSummary s) =>
        new(s.Bucket, s.Key, s.VersionId, s.Size, s.Sha256, s.Created.ToUnixTimeMilliseconds(), s.ChunkCount, s.Writer);

    private static StoreError NotFound(string bucket, string key) =>
        new(StoreErrorCode.NotFound, $"{bucket}/{key}: no such object");

    private sealed record IoDone(IActorRef ReplyTo, object Reply) : ILocalMessage;
    private sealed record ChunkWritten(ContentHash Id, int Length, ChunkStore.PendingChunk? Pending) : ILocalMessage;
    private sealed record GroupCommitted(List<(IActorRef ReplyTo, ChunkStored Stored)> Waiting, List<ChunkStore.PendingChunk> Chunks, int Added, string? Error) : ILocalMessage;
}
