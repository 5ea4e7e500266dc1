using Akka.Actor;
using Akka.Event;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;
using ObjectStore.Core.Storage;
using static ObjectStore.Actors.Protocol.ReplicaProtocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.IndexProtocol;

namespace ObjectStore.Actors.Storage;

/// <summary>
/// The node's object index (<c>/user/object-index</c>): object versions with their chunk lists, listings
/// and delete markers, in index.db. Replicas' commits (passed on by the chunk keeper once their chunks are
/// known to be here) that arrive together share one transaction (one flush of the database). Whatever a
/// commit or delete leaves unreferenced goes to the chunk keeper for collection.
/// </summary>
/// <remarks>
/// Runs under a backoff supervisor: a database failure answers the request with an error and then
/// restarts this actor (reopening the database) after a growing delay.
/// </remarks>
public sealed class ObjectIndexActor : ReceiveActor, IWithTimers
{
    public const string Name = "object-index";

    private static readonly TimeSpan DeleteMarkerSweep = TimeSpan.FromHours(1);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly StoreSettings _settings;
    private readonly IActorRef _keeper;
    private readonly IStorageFaults? _faults;
    private ObjectIndex _index = null!;
    private readonly List<(CommitObject Commit, IActorRef ReplyTo)> _commitsQueued = [];

    public ITimerScheduler Timers { get; set; } = null!;

    private sealed record FlushCommits : ILocalMessage
    {
        public static readonly FlushCommits Instance = new();
    }

    /// <summary>Drop delete markers older than <see cref="ReplicationSettings.DeleteMarkerTtl"/> (at start and hourly).</summary>
    private sealed record ExpireDeleteMarkers : ILocalMessage
    {
        public static readonly ExpireDeleteMarkers Instance = new();
    }

    public ObjectIndexActor(StoreSettings settings, IActorRef keeper, IStorageFaults? faults = null)
    {
        _settings = settings;
        _keeper = keeper;
        _faults = faults;

        Receive<CommitObject>(m =>
        {
            // The flush goes behind every commit already in the mailbox: they share one transaction.
            _commitsQueued.Add((m, Sender));
            if (_commitsQueued.Count == 1) Self.Tell(FlushCommits.Instance);
        });
        Receive<FlushCommits>(_ => HandleFlushCommits());
        Receive<DropVersion>(m => Change(() => _index.DropVersion(m.Bucket, m.Key, m.VersionId), $"drop {m.Bucket}/{m.Key}",
            _ => new ReplicaDropped(m.VersionId)));
        Receive<ApplyDelete>(m => Change(() => _index.Delete(m.Marker), $"delete {m.Marker.Bucket}/{m.Marker.Key}",
            unreferenced => unreferenced is null ? NotFound(m.Marker.Bucket, m.Marker.Key) : new ObjectDeleted(m.Marker.Bucket, m.Marker.Key)));
        Receive<GetManifest>(m => Sender.Tell(_index.TryGet(m.Bucket, m.Key) is { } manifest ? new ManifestFound(manifest) : NotFound(m.Bucket, m.Key)));
        Receive<GetChunkPage>(m => Sender.Tell(_index.ChunkPage(m.Bucket, m.Key, m.VersionId, m.Start, m.Count) is { } page
            ? new ChunkPageFound(page)
            : new StoreError(StoreErrorCode.NotFound, $"{m.Bucket}/{m.Key}: version {m.VersionId} is no longer current on this node")));
        Receive<FindVersion>(m => Sender.Tell(new VersionFound(_index.TryGet(m.Bucket, m.Key), _index.TryGetDeleteMarker(m.Bucket, m.Key))));
        Receive<FindVersions>(m => Sender.Tell(new VersionsFound(
            m.Keys.Select(key => new VersionFound(_index.TryGet(m.Bucket, key), _index.TryGetDeleteMarker(m.Bucket, key))).ToList())));
        Receive<ListLocalObjects>(HandleListLocal);
        Receive<ListLocalBuckets>(_ => Sender.Tell(new BucketListing(
            _index.ListBuckets().Select(b => new BucketInfo(b.Bucket, b.Objects, b.Bytes)).ToList())));
        Receive<CountObjects>(_ => Sender.Tell(new ObjectCount(_index.ObjectCount())));
        Receive<GetHoldings>(_ => Sender.Tell(new HoldingsFound(_index.Holdings())));
        Receive<FindVersionsWithChunk>(m => Sender.Tell(new VersionsWithChunk(m.Chunk, _index.VersionsWithChunk(m.Chunk, 1))));
        Receive<ExpireDeleteMarkers>(_ =>
        {
            var expired = _index.ExpireDeleteMarkers(DateTimeOffset.UtcNow - _settings.Replication.DeleteMarkerTtl);
            if (expired > 0) _log.Info("dropped {0} delete marker(s) older than {1}", expired, _settings.Replication.DeleteMarkerTtl);
        });
    }

    public static Props Props(StoreSettings settings, IActorRef keeper, IStorageFaults? faults = null) =>
        ActorProps.Of(() => new ObjectIndexActor(settings, keeper, faults));

    protected override void PreStart()
    {
        _index = new ObjectIndex(_settings.DataDirectory);
        _log.Info("object index ready at {0}: {1} objects", _index.FilePath, _index.ObjectCount());
        Self.Tell(ExpireDeleteMarkers.Instance);
        Timers.StartPeriodicTimer(nameof(ExpireDeleteMarkers), ExpireDeleteMarkers.Instance, DeleteMarkerSweep);
    }

    protected override void PostStop() => _index?.Dispose();

    private void HandleFlushCommits()
    {
        var batch = _commitsQueued.ToList();
        _commitsQueued.Clear();
        CrashFailpoint.BeforeIndexCommit();
        if (batch.Count > 1)
        {
            try
            {
                var results = _index.CommitMany(batch.Select(b => b.Commit.Manifest).ToList(), m => _faults?.BeforeCommit(m.Bucket, m.Key));
                for (var i = 0; i < batch.Count; i++)
                {
                    Committed(batch[i].Commit, batch[i].ReplyTo, new ReplicaCommitted(batch[i].Commit.Manifest.VersionId, results[i].Current, batch[i].Commit.Missing));
                    Collect(results[i].Unreferenced);
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
        foreach (var (commit, replyTo) in batch)
        {
            var manifest = commit.Manifest;
            try
            {
                _faults?.BeforeCommit(manifest.Bucket, manifest.Key);
                var result = _index.Commit(manifest);
                Committed(commit, replyTo, new ReplicaCommitted(manifest.VersionId, result.Current, commit.Missing));
                Collect(result.Unreferenced);
            }
            catch (Exception e)
            {
                Committed(commit, replyTo, new StoreError(StoreErrorCode.StorageFailure, $"cannot commit {manifest.Bucket}/{manifest.Key}: {e.Message}"));
                failure ??= e;
            }
        }
        if (failure is not null) throw failure;
    }

    /// <summary>
    /// Answers a replica's commit, and ends the put's pins here when its manifest is now the key's version: it
    /// references the chunks from then on. A refused or failed commit references nothing, so its pins stay until
    /// the put ends (it releases them) or their lease does: objects of one small-put batch with the same bytes
    /// share one upload's pin, and a refused one (its key has a newer version) that ended it let the keeper delete
    /// the chunk before the other object's commit referenced it.
    /// </summary>
    private void Committed(CommitObject commit, IActorRef replyTo, object reply)
    {
        replyTo.Tell(reply);
        if (reply is ReplicaCommitted { Current: true }) _keeper.Tell(new ChunkStorageProtocol.ReleaseUpload(commit.UploadId));
    }

    /// <summary>
    /// Runs one change of the index; the reply goes out through the chunk keeper once the chunks the change
    /// left unreferenced are collected. A failure is answered and then restarts this actor.
    /// </summary>
    private void Change(Func<IReadOnlyList<ContentHash>?> change, string what, Func<IReadOnlyList<ContentHash>?, object> reply)
    {
        IReadOnlyList<ContentHash>? unreferenced;
        try
        {
            unreferenced = change();
        }
        catch (Exception e)
        {
            Sender.Tell(new StoreError(StoreErrorCode.StorageFailure, $"cannot {what}: {e.Message}"));
            throw;
        }
        if (unreferenced is { Count: > 0 }) _keeper.Tell(new ChunkStorageProtocol.CollectChunks(unreferenced, Sender, reply(unreferenced)));
        else Sender.Tell(reply(unreferenced));
    }

    private void Collect(IReadOnlyList<ContentHash> unreferenced)
    {
        if (unreferenced.Count > 0) _keeper.Tell(new ChunkStorageProtocol.CollectChunks(unreferenced));
    }

    /// <summary>A page of this node's objects and the delete markers in the same key range.</summary>
    private void HandleListLocal(ListLocalObjects m)
    {
        var limit = Math.Clamp(m.Limit, 1, 10_000);
        var rows = _index.List(m.Bucket, m.Prefix, limit + 1, m.StartAfter).Select(ObjectInfos.Of).ToList();
        var (page, truncated) = ListingPage.Fit(rows, limit);
        var upTo = truncated && page.Count > 0 ? page[^1].Key : null;
        var markers = _index.ListDeleteMarkers(m.Bucket, m.Prefix, m.StartAfter, upTo);
        Sender.Tell(new LocalListing(m.Bucket, page, markers, truncated));
    }

    private static StoreError NotFound(string bucket, string key) => new(StoreErrorCode.NotFound, $"{bucket}/{key}: no such object");
}
