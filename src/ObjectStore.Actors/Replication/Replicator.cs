using Akka.Actor;
using Akka.Event;
using Akka.Pattern;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Metadata;
using ObjectStore.Core.Validation;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;
using static ObjectStore.Actors.Protocol.ReplicaProtocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.StorageProtocol;

namespace ObjectStore.Actors.Replication;

/// <summary>
/// A node's replicator (<c>/user/replicator</c>), the only actor other nodes talk to about data. It
/// pushes chunks to other nodes for this node's puts — each push a child under its own backoff
/// supervisor, so a transfer that fails is retried after 0.2 s, 0.4 s, 0.8 s ... and, after its last
/// retry, reported as failed so the put can hand the chunk to the next node in the owner list —
/// and it answers other nodes' pushes, fetches and metadata requests from this node's storage.
/// </summary>
/// <remarks>
/// BackoffSupervisor (Backoff.OnFailure) rather than a hand-made retry loop: each attempt is a fresh
/// actor (no state left over from a broken attempt), the delays grow with jitter, and a crashing
/// transfer is contained by its own supervisor: it never restarts this actor or the node.
/// </remarks>
public sealed class Replicator : WireActor, IWithTimers
{
    public const string Name = "replicator";

    public ITimerScheduler Timers { get; set; } = null!;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly StoreSettings _settings;
    private readonly IActorRef _storage;
    private readonly string _nodeId;

    private sealed class Push(PushChunk request, IActorRef requester)
    {
        public PushChunk Request { get; } = request;
        public IActorRef Requester { get; } = requester;
        public bool Succeeded { get; set; }
        public bool AlreadyThere { get; set; }
        public int Attempts { get; set; }
        public string LastFailure { get; set; } = "stopped";
    }

    private readonly Dictionary<long, Push> _pushes = new();
    private readonly Dictionary<IActorRef, long> _pushBySupervisor = new();
    private long _nextPush;
    private int _incoming;
    private readonly HashSet<IActorRef> _receivers = [];
    private readonly Dictionary<string, DateTime> _uploadsSeen = new();

    private sealed record ExpireLeases : ILocalMessage
    {
        public static readonly ExpireLeases Instance = new();
    }

    public Replicator(StoreSettings settings, IActorRef storage, string nodeId)
    {
        _settings = settings;
        _storage = storage;
        _nodeId = nodeId;

        // This node's puts.
        Receive<PushChunk>(StartPush);
        Receive<ChunkPushActor.AttemptSucceeded>(m =>
        {
            if (!_pushes.TryGetValue(m.PushId, out var push)) return;
            push.Succeeded = true;
            push.AlreadyThere = m.AlreadyThere;
        });
        Receive<ChunkPushActor.AttemptFailed>(m =>
        {
            if (!_pushes.TryGetValue(m.PushId, out var push)) return;
            push.Attempts++;
            push.LastFailure = m.Reason;
            _log.Info("push of chunk {0} failed (attempt {1} of {2}): {3}", push.Request.Id.ToShortString(), push.Attempts,
                _settings.Replication.MaxRetries + 1, m.Reason);
        });
        Receive<Terminated>(m => _pushBySupervisor.ContainsKey(m.ActorRef), m => EndPush(m.ActorRef));
        Receive<Terminated>(m => _receivers.Remove(m.ActorRef), _ => _incoming--);

        // Other nodes' puts and gets.
        Receive<OfferChunk>(HandleOffer);
        Receive<ChunkClaim>(HandleClaim);
        Receive<FetchChunk>(m => Context.ActorOf(ChunkSendActor.Props(m, _storage, _settings)));
        Receive<StageChunks>(HandleStage);
        Receive<CommitReplica>(HandleCommitReplica);
        Receive<FindManifestChunks>(HandleFindChunks);
        Receive<DropReplica>(m =>
        {
            if (Valid(m.Bucket, m.Key)) _storage.Forward(new DropVersion(m.Bucket, m.Key, m.VersionId));
        });
        Receive<ReleaseReplicaUpload>(m =>
        {
            _uploadsSeen.Remove(m.UploadId);
            DropStaged(m.UploadId);
            _storage.Tell(new ReleaseUpload(m.UploadId));
        });
        Receive<FindManifest>(HandleFind);
        Receive<WhichChunks>(m => _storage.Forward(m));
        Receive<ListLocalObjects>(m =>
        {
            if (Valid(m.Bucket, null)) _storage.Forward(m);
        });
        Receive<ListLocalBuckets>(_ => _storage.Forward(ListBuckets.Instance));
        Receive<DeleteLocal>(m =>
        {
            if (Valid(m.Marker.Bucket, m.Marker.Key)) _storage.Forward(m.Marker);
        });
        Receive<ExpireLeases>(_ =>
        {
            ExpireIdleUploads();
            ExpireClaims();
        });
    }

    public static Props Props(StoreSettings settings, IActorRef storage, string nodeId) =>
        Akka.Actor.Props.Create(() => new Replicator(settings, storage, nodeId));

    protected override void PreStart()
    {
        var r = _settings.Replication;
        var every = TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(1).Ticks, Math.Min(r.PinLease.Ticks / 4, r.TransferTimeout.Ticks)));
        Timers.StartPeriodicTimer("leases", ExpireLeases.Instance, every);
    }

    protected override void PostStop()
    {
        foreach (var push in _pushes.Values) push.Request.Buffer.Dispose();
    }

    private void StartPush(PushChunk m)
    {
        var id = ++_nextPush;
        var r = _settings.Replication;
        var supervisor = Context.ActorOf(BackoffSupervisor.Props(
            Backoff.OnFailure(ChunkPushActor.Props(m, id, Self, _settings), "attempt", r.RetryMinBackoff, r.RetryMaxBackoff,
                    randomFactor: 0.2, maxNrOfRetries: r.MaxRetries)
                // The default auto-reset would forget earlier failures once an attempt had run for
                // min-backoff, so a slow failing peer would be retried forever instead of handed off.
                .WithManualReset()), $"push-{id}");
        Context.Watch(supervisor);
        _pushes[id] = new Push(m, Sender);
        _pushBySupervisor[supervisor] = id;
    }

    /// <summary>The push's supervisor stopped: its attempt succeeded, or its last retry failed.</summary>
    private void EndPush(IActorRef supervisor)
    {
        _pushBySupervisor.Remove(supervisor, out var id);
        if (!_pushes.Remove(id, out var push)) return;
        push.Request.Buffer.Dispose();
        push.Requester.Tell(push.Succeeded
            ? new PushDone(push.Request.RequestId, true, push.AlreadyThere, null)
            : new PushDone(push.Request.RequestId, false, false, $"{push.LastFailure} (after {push.Attempts} attempts)"));
    }

    private void HandleOffer(OfferChunk m)
    {
        if (m.Length < 1 || m.Length > _settings.Chunking.LargestChunk)
        {
            Sender.Tell(new TransferFailed(m.TransferId, StoreErrorCode.InvalidRequest, $"chunk of {m.Length} bytes is outside 1..{_settings.Chunking.LargestChunk} (objectstore.chunking)"));
            return;
        }
        if (m.UploadId.Length is 0 or > 64)
        {
            Sender.Tell(new TransferFailed(m.TransferId, StoreErrorCode.InvalidRequest, "bad upload id"));
            return;
        }
        if (_incoming >= _settings.Replication.MaxIncomingTransfers)
        {
            Sender.Tell(new TransferFailed(m.TransferId, StoreErrorCode.Unavailable, $"busy: {_incoming} transfers in progress"));
            return;
        }
        _uploadsSeen[m.UploadId] = DateTime.UtcNow;
        _incoming++; // reserved until the claim answers
        // The storage actor answers claims in the order it gets them. Should it be restarting and
        // never answer, the sender's attempt times out and is retried.
        if (!_claims.TryGetValue(m.Id, out var waiting)) _claims[m.Id] = waiting = new Queue<(OfferChunk, IActorRef, DateTime)>();
        waiting.Enqueue((m, Sender, DateTime.UtcNow));
        _storage.Tell(new ClaimChunk(m.Id, m.UploadId));
    }

    private readonly Dictionary<Core.Hashing.ContentHash, Queue<(OfferChunk Offer, IActorRef Sender, DateTime Asked)>> _claims = new();

    /// <summary>
    /// Claims a restarting storage actor never answered: their senders have given up (and retry), and
    /// the slots they reserved must come back, or the node would end up refusing every transfer.
    /// </summary>
    private void ExpireClaims()
    {
        var cutoff = DateTime.UtcNow - _settings.Replication.TransferTimeout;
        foreach (var id in _claims.Keys.ToList())
        {
            var waiting = _claims[id];
            while (waiting.TryPeek(out var claim) && claim.Asked < cutoff)
            {
                waiting.Dequeue();
                _incoming--;
            }
            if (waiting.Count == 0) _claims.Remove(id);
        }
    }

    private void HandleClaim(ChunkClaim m)
    {
        if (!_claims.TryGetValue(m.Id, out var waiting) || !waiting.TryDequeue(out var claim)) return;
        if (waiting.Count == 0) _claims.Remove(m.Id);
        if (m.Present)
        {
            _incoming--;
            claim.Sender.Tell(new ChunkPresent(claim.Offer.TransferId));
            return;
        }
        var receiver = Context.ActorOf(ChunkReceiveActor.Props(claim.Offer, claim.Sender, _storage, _settings.Replication.TransferTimeout));
        Context.Watch(receiver);
        _receivers.Add(receiver);
    }

    /// <summary>Chunk lists of large manifests arriving page by page, until their commit (or the upload's lease ends).</summary>
    private readonly Dictionary<(string Upload, string Version), List<Core.Metadata.ChunkRef>> _staged = new();

    /// <summary>A bound on one staged list, so a forged stream of pages cannot fill the memory (64 M chunks: 256 TiB at 4 MiB).</summary>
    private const int MaxStagedChunks = 64 * 1024 * 1024;

    private void HandleStage(StageChunks m)
    {
        if (m.UploadId.Length is 0 or > 64 || m.VersionId.Length is 0 or > 64)
        {
            Sender.Tell(new StoreError(StoreErrorCode.InvalidRequest, "bad upload or version id"));
            return;
        }
        var key = (m.UploadId, m.VersionId);
        if (!_staged.TryGetValue(key, out var list)) _staged[key] = list = [];
        if (m.Start != list.Count || list.Count + m.Chunks.Count > MaxStagedChunks)
        {
            Sender.Tell(new StoreError(StoreErrorCode.InvalidRequest, $"chunk page at {m.Start} arrived where {list.Count} was due"));
            return;
        }
        list.AddRange(m.Chunks);
        _uploadsSeen[m.UploadId] = DateTime.UtcNow;
        Sender.Tell(new ChunksStaged(m.VersionId, list.Count));
    }

    private void DropStaged(string uploadId)
    {
        foreach (var key in _staged.Keys.Where(k => k.Upload == uploadId).ToList()) _staged.Remove(key);
    }

    private void HandleCommitReplica(CommitReplica m)
    {
        if (!Valid(m.Manifest.Bucket, m.Manifest.Key)) return;
        if (m.ChunksStaged)
        {
            if (!_staged.Remove((m.UploadId, m.Manifest.VersionId), out var staged)
                || staged.Sum(c => (long)c.Length) != m.Manifest.Size)
            {
                Sender.Tell(new StoreError(StoreErrorCode.InvalidRequest,
                    $"commit of {m.Manifest.Bucket}/{m.Manifest.Key}: the staged chunk list is missing or does not add up to the object's size"));
                return;
            }
            m = m with { Manifest = m.Manifest with { Chunks = staged }, ChunksStaged = false };
        }
        _uploadsSeen.Remove(m.UploadId);
        var storage = _storage;
        // Once its manifest is committed here the put no longer needs its chunks kept for it (the
        // manifest references them now), so the commit also ends the upload on this node: one message
        // fewer per object. A put whose commit fails elsewhere drops the version (DropReplica) and its
        // chunks go with it.
        _storage.Ask<object>(new CommitObject(m.Manifest, m.UploadId), _settings.RequestTimeout)
            .ContinueWith(t =>
            {
                storage.Tell(new ReleaseUpload(m.UploadId));
                return t;
            }).Unwrap()
            .PipeTo(Sender, success: reply => reply is ObjectCommitted c ? new ReplicaCommitted(c.Manifest.VersionId, c.Current) : reply,
                failure: e => new StoreError(StoreErrorCode.Unavailable, $"storage did not answer ({e.GetType().Name})"));
    }

    private void HandleFind(FindManifest m)
    {
        if (!Valid(m.Bucket, m.Key)) return;
        var nodeId = _nodeId;
        var page = _settings.Replication.ManifestPage;
        _storage.Ask<object>(new FindVersion(m.Bucket, m.Key), _settings.RequestTimeout)
            .PipeTo(Sender, success: reply => reply switch
                {
                    // A large manifest goes out with its first page; the asker fetches the rest.
                    VersionFound { Manifest: { } found } v => new ManifestReply(nodeId, found with { Chunks = found.Chunks.Take(page).ToList() },
                        found.Chunks.Count, v.Deleted),
                    VersionFound v => new ManifestReply(nodeId, null, 0, v.Deleted),
                    _ => reply,
                },
                failure: e => new StoreError(StoreErrorCode.Unavailable, $"storage did not answer ({e.GetType().Name})"));
    }

    private void HandleFindChunks(FindManifestChunks m)
    {
        if (!Valid(m.Bucket, m.Key)) return;
        var page = _settings.Replication.ManifestPage;
        _storage.Ask<object>(new GetManifest(m.Bucket, m.Key), _settings.RequestTimeout)
            .PipeTo(Sender, success: reply => reply switch
                {
                    ManifestFound found when found.Manifest.VersionId == m.VersionId =>
                        new ManifestChunks(m.VersionId, m.Start, found.Manifest.Chunks.Skip(m.Start).Take(page).ToList()),
                    ManifestFound or StoreError { Code: StoreErrorCode.NotFound } =>
                        new StoreError(StoreErrorCode.NotFound, $"{m.Bucket}/{m.Key}: version {m.VersionId} is no longer current on this node"),
                    _ => reply,
                },
                failure: e => new StoreError(StoreErrorCode.Unavailable, $"storage did not answer ({e.GetType().Name})"));
    }

    /// <summary>Chunks kept for a put whose node went silent (killed mid-put) are let go after the lease.</summary>
    private void ExpireIdleUploads()
    {
        var cutoff = DateTime.UtcNow - _settings.Replication.PinLease;
        foreach (var upload in _uploadsSeen.Where(u => u.Value < cutoff).Select(u => u.Key).ToList())
        {
            _uploadsSeen.Remove(upload);
            DropStaged(upload);
            _storage.Tell(new ReleaseUpload(upload));
        }
    }

    /// <summary>Requests from the network are checked like the shell's: a forged name never reaches the index.</summary>
    private bool Valid(string bucket, string? key)
    {
        if (BucketName.IsValid(bucket) && (key is null || ObjectKey.IsValid(key))) return true;
        Sender.Tell(new StoreError(StoreErrorCode.InvalidRequest, $"invalid bucket or key '{bucket}/{key}'"));
        return false;
    }
}
