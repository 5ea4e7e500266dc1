using Akka.Actor;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Validation;
using static ObjectStore.Actors.Protocol.ReplicaProtocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.ChunkStorageProtocol;
using static ObjectStore.Actors.Storage.IndexProtocol;

namespace ObjectStore.Actors.Replication;

/// <summary>
/// Where other nodes (and this one) send object metadata (<c>/user/replicas</c>, the replica protocol):
/// commits of a put's manifest (a large chunk list staged page by page first), undoing a put that missed
/// its quorum, lookups, listings and deletes, answered from this node's object index. A commit goes
/// through the chunk keeper, which notes the chunks the put left here that are not on disk; the index
/// then commits it, answers (naming those chunks), and ends the put's pins here.
/// </summary>
public sealed class ReplicaEndpoint : WireActor, IWithTimers
{
    public const string Name = "replicas";

    private readonly StoreSettings _settings;
    private readonly IActorRef _keeper;
    private readonly IActorRef _index;
    private readonly string _nodeId;
    private readonly StagedChunkLists _staged = new();

    public ITimerScheduler Timers { get; set; } = null!;

    private sealed record DropIdleStaging : ILocalMessage
    {
        public static readonly DropIdleStaging Instance = new();
    }

    public ReplicaEndpoint(StoreSettings settings, IActorRef keeper, IActorRef index, string nodeId)
    {
        _settings = settings;
        _keeper = keeper;
        _index = index;
        _nodeId = nodeId;

        Receive<StageChunks>(HandleStage);
        Receive<CommitReplica>(HandleCommit);
        Receive<CommitReplicas>(HandleCommits);
        Receive<DropReplica>(m =>
        {
            if (Valid(m.Bucket, m.Key)) _index.Forward(new DropVersion(m.Bucket, m.Key, m.VersionId));
        });
        Receive<ReleaseReplicaUpload>(m =>
        {
            _staged.Drop(m.UploadId);
            _keeper.Tell(new ReleaseUpload(m.UploadId));
        });
        Receive<FindManifest>(HandleFind);
        Receive<FindManifests>(HandleFindMany);
        Receive<FindManifestChunks>(HandleFindChunks);
        Receive<ListLocalObjects>(m =>
        {
            if (Valid(m.Bucket, null)) _index.Forward(m);
        });
        Receive<ListLocalBuckets>(m => _index.Forward(m));
        Receive<DeleteLocal>(m =>
        {
            if (Valid(m.Marker.Bucket, m.Marker.Key)) _index.Forward(new ApplyDelete(m.Marker));
        });
        Receive<NodeDraining>(m =>
        {
            var draining = DrainingNodes.Of(Context.System);
            if (!m.Draining) draining.Clear(m.NodeId);
            else if (m.NodeId.Length is > 0 and <= 64) draining.Mark(m.NodeId, TimeSpan.FromSeconds(m.TtlSeconds));
        });
        Receive<DropIdleStaging>(_ => _staged.DropIdle(DateTime.UtcNow - _settings.Replication.PinLease));
    }

    public static Props Props(StoreSettings settings, IActorRef keeper, IActorRef index, string nodeId) =>
        ActorProps.Of(() => new ReplicaEndpoint(settings, keeper, index, nodeId));

    protected override void PreStart()
    {
        var every = TimeSpan.FromTicks(Math.Clamp(_settings.Replication.PinLease.Ticks / 4, TimeSpan.FromSeconds(1).Ticks, TimeSpan.FromMinutes(1).Ticks));
        Timers.StartPeriodicTimer(nameof(DropIdleStaging), DropIdleStaging.Instance, every);
    }

    private void HandleStage(StageChunks m)
    {
        if (m.UploadId.Length is 0 or > 64 || m.VersionId.Length is 0 or > 64)
        {
            Sender.Tell(new StoreError(StoreErrorCode.InvalidRequest, "bad upload or version id"));
            return;
        }
        var (next, error) = _staged.Add(m.UploadId, m.VersionId, m.Start, m.Chunks, DateTime.UtcNow);
        if (error is not null)
        {
            Sender.Tell(new StoreError(StoreErrorCode.InvalidRequest, error));
            return;
        }
        _keeper.Tell(new ExtendUpload(m.UploadId));
        Sender.Tell(new ChunksStaged(m.VersionId, next));
    }

    private void HandleCommit(CommitReplica m)
    {
        if (!Valid(m.Manifest.Bucket, m.Manifest.Key)) return;
        if (m.ChunksStaged)
        {
            if (_staged.Take(m.UploadId, m.Manifest.VersionId) is not { } staged || staged.Sum(c => (long)c.Length) != m.Manifest.Size)
            {
                Sender.Tell(new StoreError(StoreErrorCode.InvalidRequest,
                    $"commit of {m.Manifest.Bucket}/{m.Manifest.Key}: the staged chunk list is missing or does not add up to the object's size"));
                return;
            }
            m = m with { Manifest = m.Manifest with { Chunks = staged }, ChunksStaged = false };
        }
        // The keeper notes which of the put's chunks are not here, then the index commits and answers the sender.
        _keeper.Forward(new CommitNotingMissing(new CommitObject(m.Manifest, m.UploadId), _index));
    }

    /// <summary>
    /// A batch of small puts' commits: each goes the way of a single commit (through the keeper to the index,
    /// where commits that arrive together share one transaction); one reply carries every outcome.
    /// </summary>
    private void HandleCommits(CommitReplicas m)
    {
        var timeout = _settings.RequestTimeout;
        var outcomes = m.Commits.Select(async c =>
        {
            if (!BucketName.IsValid(c.Manifest.Bucket) || !ObjectKey.IsValid(c.Manifest.Key) || c.UploadId.Length is 0 or > 64)
                return (object)new StoreError(StoreErrorCode.InvalidRequest, $"invalid bucket, key or upload id '{c.Manifest.Bucket}/{c.Manifest.Key}'");
            try
            {
                return await _keeper.Ask<object>(new CommitNotingMissing(new CommitObject(c.Manifest, c.UploadId), _index), timeout);
            }
            catch (AskTimeoutException)
            {
                return new StoreError(StoreErrorCode.Timeout, $"commit of {c.Manifest.Bucket}/{c.Manifest.Key}: storage did not answer in {timeout.TotalSeconds:0}s");
            }
        }).ToList();
        Task.WhenAll(outcomes).PipeTo(Sender, success: all => new ReplicasCommitted(all));
    }

    private void HandleFind(FindManifest m)
    {
        if (!Valid(m.Bucket, m.Key)) return;
        var nodeId = _nodeId;
        var page = _settings.Replication.ManifestPage;
        _index.Ask<object>(new FindVersion(m.Bucket, m.Key), _settings.RequestTimeout)
            .PipeTo(Sender, success: reply => reply is VersionFound v ? Reply(nodeId, v, page) : reply,
                failure: e => new StoreError(StoreErrorCode.Unavailable, $"storage did not answer ({e.GetType().Name})"));
    }

    private void HandleFindMany(FindManifests m)
    {
        if (!Valid(m.Bucket, null)) return;
        if (m.Keys.FirstOrDefault(k => !ObjectKey.IsValid(k)) is { } bad)
        {
            Sender.Tell(new StoreError(StoreErrorCode.InvalidRequest, $"invalid key '{bad}'"));
            return;
        }
        var nodeId = _nodeId;
        // 64 replies must fit one frame: a large manifest comes with its first few chunks only (a batch
        // of small gets leaves such an object to a get of its own).
        var page = Math.Min(_settings.Replication.ManifestPage, FindManifests.ChunksPerManifest);
        _index.Ask<object>(new FindVersions(m.Bucket, m.Keys), _settings.RequestTimeout)
            .PipeTo(Sender, success: reply => reply is VersionsFound all
                    ? new ManifestReplies(all.Versions.Select(v => Reply(nodeId, v, page)).ToList())
                    : reply,
                failure: e => new StoreError(StoreErrorCode.Unavailable, $"storage did not answer ({e.GetType().Name})"));
    }

    /// <summary>A large manifest goes out with its first page; the asker fetches the rest.</summary>
    private static ManifestReply Reply(string nodeId, VersionFound v, int page) => v.Manifest is { } found
        ? new ManifestReply(nodeId, found with { Chunks = found.Chunks.Take(page).ToList() }, found.Chunks.Count, v.Deleted)
        : new ManifestReply(nodeId, null, 0, v.Deleted);

    private void HandleFindChunks(FindManifestChunks m)
    {
        if (!Valid(m.Bucket, m.Key)) return;
        var page = _settings.Replication.ManifestPage;
        _index.Ask<object>(new GetChunkPage(m.Bucket, m.Key, m.VersionId, m.Start, page), _settings.RequestTimeout)
            .PipeTo(Sender, success: reply => reply is ChunkPageFound found ? new ManifestChunks(m.VersionId, m.Start, found.Chunks) : reply,
                failure: e => new StoreError(StoreErrorCode.Unavailable, $"storage did not answer ({e.GetType().Name})"));
    }

    /// <summary>Requests from the network are checked like the shell's: a forged name never reaches the index.</summary>
    private bool Valid(string bucket, string? key)
    {
        if (BucketName.IsValid(bucket) && (key is null || ObjectKey.IsValid(key))) return true;
        Sender.Tell(new StoreError(StoreErrorCode.InvalidRequest, $"invalid bucket or key '{bucket}/{key}'"));
        return false;
    }
}
