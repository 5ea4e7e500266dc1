using Akka.Actor;
using Akka.Event;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Chunking;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;
using ObjectStore.Core.Placement;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;
using static ObjectStore.Actors.Protocol.ReplicaProtocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.ChunkStorageProtocol;
using static ObjectStore.Actors.Storage.IndexProtocol;
using ObjectStore.Actors.Replication.Repair;

namespace ObjectStore.Actors.Replication;

/// <summary>The chunks of a batch of small puts, placed together: their pushes to each node go in as few messages as fit.</summary>
public sealed record StoreChunkBatch(IReadOnlyList<StoreChunk> Chunks) : ILocalMessage;
/// <summary>
/// The manifests of a batch of small puts, committed together (one CommitReplicas per node). Each object's
/// outcome comes back as a <see cref="DistributorCommit.BatchOutcome"/> with its place in the list.
/// </summary>
public sealed record CommitObjects(IReadOnlyList<CommitObject> Commits) : ILocalMessage;

/// <summary>
/// The write path of one put across the cluster. To its chunker it looks like the chunk keeper: it takes
/// each chunk (StoreChunk) and answers ChunkStored once the chunk is durable on at least the write quorum
/// of nodes, or ChunkStoreFailed when it cannot be. Each chunk goes where its <see cref="ChunkPlacement"/>
/// says: this node's keeper directly, other nodes through the outgoing pushes, a failed owner replaced by
/// the next node in the order. A target still writing a late-copy-grace after the quorum held is given up
/// on for the rest of the put (a frozen node never holds puts up). Then the manifest (CommitObject) goes
/// to the key's owners and to every node holding one of the object's chunks (<see cref="DistributorCommit"/>);
/// <see cref="PutQuorum"/> decides whether the put holds, a put that does not is undone where it landed,
/// and the copies a put that holds still lacks are in the repair queue before it is answered.
/// </summary>
public sealed class ChunkDistributor : ReceiveActor, IWithTimers
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly StoreSettings _settings;
    private readonly IActorRef _keeper;
    private readonly IActorRef _pushes;
    private readonly ClusterRing _ring;
    private readonly string _uploadId;
    private readonly int _factor;
    private readonly int _quorum;

    private sealed record LateCopies(ContentHash Id) : ILocalMessage;

    private sealed class Chunk(ContentHash id, ChunkBuffer? buffer, int length, IActorRef replyTo, ChunkPlacement placement, string uploadId)
    {
        /// <summary>The put that pins the chunk where it lands (a batch of small puts has one per object).</summary>
        public string UploadId { get; } = uploadId;
        public DateTime Started { get; } = DateTime.UtcNow;
        /// <summary>The chunker was told ChunkStored (the quorum holds).</summary>
        public bool Answered { get; set; }
        public ContentHash Id { get; } = id;
        /// <summary>This put's own reference to the bytes, kept only while a hand-off may need them again.</summary>
        public ChunkBuffer? Buffer { get; set; } = buffer;
        public int Length { get; } = length;
        public IActorRef ReplyTo { get; } = replyTo;
        public ChunkPlacement Placement { get; } = placement;
        public int Occurrences { get; set; } = 1;
        public bool Written { get; set; }
        public HashSet<StoreErrorCode> FailureCodes { get; } = [];
    }

    private readonly Dictionary<ContentHash, Chunk> _active = new();
    private readonly Dictionary<ContentHash, IReadOnlyList<string>> _placed = new();
    private readonly Dictionary<long, (Chunk Chunk, RingMember Target)> _pushesInFlight = new();
    private readonly HashSet<RingMember> _touched = [];
    /// <summary>Nodes given up on for this put: later chunks skip them, and their copies go to the repair queue.</summary>
    private readonly HashSet<string> _late = new(StringComparer.Ordinal);
    private long _nextRequest;
    /// <summary>One per object: a put has one, a batch of small puts one per object committed.</summary>
    private readonly List<DistributorCommit> _commits = [];
    private (IReadOnlyList<CommitObject> Commits, IActorRef ReplyTo, bool Batch)? _commitWaiting;
    private readonly HashSet<string> _uploadIds = new(StringComparer.Ordinal);
    /// <summary>Set while a batch's chunks are being placed: pushes of small chunks wait to go out together.</summary>
    private Dictionary<RingMember, List<PushChunk>>? _batchedPushes;

    public ITimerScheduler Timers { get; set; } = null!;

    public ChunkDistributor(StoreSettings settings, IActorRef keeper, IActorRef pushes, ClusterRing ring, string uploadId)
    {
        _settings = settings;
        _keeper = keeper;
        _pushes = pushes;
        _ring = ring;
        _uploadId = uploadId;
        _factor = settings.Replication.Factor;
        _quorum = settings.Replication.WriteQuorum;

        Receive<StoreChunk>(HandleStoreChunk);
        Receive<StoreChunkBatch>(m =>
        {
            _batchedPushes = new();
            foreach (var chunk in m.Chunks) HandleStoreChunk(chunk);
            SendBatchedPushes();
        });
        Receive<ChunkStored>(m => Resolve(m.Id, Local, durable: true, written: m.Written, failure: null));
        Receive<ChunkStoreFailed>(m => Resolve(m.Id, Local, durable: false, written: false, failure: m.Reason, m.Code));
        Receive<PushDone>(m =>
        {
            if (_pushesInFlight.Remove(m.RequestId, out var push)) Resolve(push.Chunk.Id, push.Target, m.Durable, written: m.Written, failure: m.Reason);
        });
        Receive<LateCopies>(m =>
        {
            if (!_active.TryGetValue(m.Id, out var chunk)) return;
            foreach (var node in chunk.Placement.GiveUpOnLate())
            {
                _late.Add(node);
                _log.Info("put {0}: {1} is slow to store chunk {2}; going on without it, its copies will be queued", _uploadId, node, m.Id.ToShortString());
                foreach (var (request, push) in _pushesInFlight.Where(p => p.Value.Chunk == chunk && p.Value.Target.NodeId == node).ToList())
                {
                    _pushesInFlight.Remove(request);
                    _pushes.Tell(new CancelPush(request));
                }
            }
            Finish(chunk);
        });
        Receive<CommitObject>(m =>
        {
            _commitWaiting = ([m], Sender, false);
            StartCommitWhenPlaced();
        });
        Receive<CommitObjects>(m =>
        {
            _commitWaiting = (m.Commits, Sender, true);
            StartCommitWhenPlaced();
        });
        Receive<DistributorCommit.Reply>(m => CommitOf(m.Index).Handle(m));
        Receive<DistributorCommit.GraceOver>(m => CommitOf(m.Index).GiveUpOnLate());
        Receive<DistributorCommit.RepairsDone>(m => CommitOf(m.Index).Queued(m));
    }

    private DistributorCommit CommitOf(int index) => _commits[Math.Max(index, 0)];

    public static Props Props(StoreSettings settings, IActorRef keeper, IActorRef pushes, ClusterRing ring, string uploadId) =>
        ActorProps.Of(() => new ChunkDistributor(settings, keeper, pushes, ring, uploadId));

    private RingMember Local => _ring.Find(_ring.SelfId)!;

    /// <summary>
    /// The manifest goes out once every chunk's writes have answered or been given up on. A batch's manifests
    /// go out together: one CommitReplicas per node (<see cref="BatchedManifestCommits"/>).
    /// </summary>
    private void StartCommitWhenPlaced()
    {
        if (_commitWaiting is not { } waiting || _active.Count > 0) return;
        _commitWaiting = null;
        if (!waiting.Batch)
        {
            var commit = new DistributorCommit(Context, _settings, _ring, waiting.Commits[0].UploadId, _late, _log, () => Timers, -1,
                (node, manifest, upload) => ManifestCommit.CommitOn(ClusterRing.ReplicasOf(Context, node.Address), manifest, upload, _settings.Replication));
            _commits.Add(commit);
            foreach (var node in commit.Start(waiting.Commits[0].Manifest, waiting.ReplyTo, _placed)) _touched.Add(node);
            return;
        }
        var batched = new BatchedManifestCommits(Context, _settings.Replication);
        for (var i = 0; i < waiting.Commits.Count; i++)
        {
            var commit = new DistributorCommit(Context, _settings, _ring, waiting.Commits[i].UploadId, _late, _log, () => Timers, i, batched.CommitOn);
            _commits.Add(commit);
            foreach (var node in commit.Start(waiting.Commits[i].Manifest, waiting.ReplyTo, _placed)) _touched.Add(node);
        }
        batched.Send();
    }

    protected override void PostStop()
    {
        foreach (var chunk in _active.Values) chunk.Buffer?.Dispose();
        // The other nodes may now collect what the put sent them and nothing references. A node where the
        // manifest became the key's version has ended the put's pins with its commit already.
        foreach (var node in _touched.Where(n => n.NodeId != _ring.SelfId))
            foreach (var upload in _uploadIds.Union(_commits.Select(c => c.UploadId)).Where(u => !_commits.Any(c => c.UploadId == u && c.CommittedOn(node.NodeId))))
                ClusterRing.ReplicasOf(Context, node.Address).Tell(new ReleaseReplicaUpload(upload), ActorRefs.NoSender);
    }

    private void HandleStoreChunk(StoreChunk m)
    {
        ForegroundActivity.Of(Context.System).Touch();
        if (_active.TryGetValue(m.Id, out var running) || _placed.ContainsKey(m.Id))
        {
            // The same chunk again in this object: it is (being) placed already.
            var length = m.Data.Length;
            m.Data.Dispose();
            if (running is { Answered: false }) running.Occurrences++;
            else Sender.Tell(new ChunkStored(m.Id, length, false));
            return;
        }
        var reachable = _ring.Reachable.Count(n => n.Writable);
        if (reachable < _quorum)
        {
            m.Data.Dispose();
            Sender.Tell(new ChunkStoreFailed(m.Id,
                $"{reachable} storage node(s) can take it and the write quorum is {_quorum} (factor {_factor}, {_ring.Size} member(s))", StoreErrorCode.Unavailable));
            return;
        }
        var order = ClusterRing.WriteOrder(_ring.Candidates(m.Id), _late, _quorum);
        var chunk = new Chunk(m.Id, m.Data, m.Data.Length, Sender, new ChunkPlacement(order, _factor, _quorum), m.UploadId);
        _uploadIds.Add(m.UploadId);
        _active[m.Id] = chunk;
        foreach (var target in chunk.Placement.Targets) Start(chunk, _ring.Find(target)!);
        // No node left to hand off to: once the targets have their own references, this one can go.
        if (!chunk.Placement.CanHandOff) DropBuffer(chunk);
        Finish(chunk);
    }

    private static void DropBuffer(Chunk chunk)
    {
        chunk.Buffer?.Dispose();
        chunk.Buffer = null;
    }

    private void Start(Chunk chunk, RingMember target)
    {
        _touched.Add(target);
        var bytes = chunk.Buffer!.Retain();
        if (target.NodeId == _ring.SelfId)
        {
            _keeper.Tell(new StoreChunk(chunk.Id, bytes, chunk.UploadId));
            return;
        }
        var request = ++_nextRequest;
        _pushesInFlight[request] = (chunk, target);
        var push = new PushChunk(request, chunk.Id, bytes, target, chunk.UploadId);
        if (_batchedPushes is not null && chunk.Length <= StoreChunks.SmallChunkLimit)
        {
            if (!_batchedPushes.TryGetValue(target, out var pending)) _batchedPushes[target] = pending = [];
            pending.Add(push);
        }
        else _pushes.Tell(push);
    }

    /// <summary>A batch's small chunks go to each node together; hand-offs and later chunks one by one.</summary>
    private void SendBatchedPushes()
    {
        foreach (var (target, pending) in _batchedPushes!)
            foreach (var batch in PushChunkBatch.Split(pending, target, _settings.FrameSize)) _pushes.Tell(batch);
        _batchedPushes = null;
    }

    private void Resolve(ContentHash id, RingMember node, bool durable, bool written, string? failure, StoreErrorCode code = StoreErrorCode.Unavailable)
    {
        if (!_active.TryGetValue(id, out var chunk)) return;
        if (durable)
        {
            chunk.Placement.Stored(node.NodeId);
            chunk.Written |= written;
        }
        else
        {
            chunk.FailureCodes.Add(code);
            _log.Warning("chunk {0} could not be placed on {1}: {2}", id.ToShortString(), node.NodeId, failure);
            if (chunk.Placement.Failed(node.NodeId, failure ?? "failed") is { } next)
            {
                _log.Info("handing chunk {0} off to {1}", id.ToShortString(), next);
                Metrics.StoreMetrics.HandOffs.Add(1);
                Start(chunk, _ring.Find(next)!);
                if (!chunk.Placement.CanHandOff) DropBuffer(chunk);
            }
        }
        Finish(chunk);
    }

    private void Finish(Chunk chunk)
    {
        if (chunk.Placement.QuorumMet && !chunk.Answered)
        {
            // The put goes on as soon as the quorum holds; the other targets get a grace to finish.
            chunk.Answered = true;
            for (var i = 0; i < chunk.Occurrences; i++) chunk.ReplyTo.Tell(new ChunkStored(chunk.Id, chunk.Length, chunk.Written && i == 0));
            chunk.Occurrences = 0;
            if (!chunk.Placement.Finished)
            {
                var grace = _settings.Replication.LateCopyGrace;
                var took = DateTime.UtcNow - chunk.Started;
                Timers.StartSingleTimer(("late", chunk.Id), new LateCopies(chunk.Id), took > grace ? took : grace);
            }
        }
        if (!chunk.Placement.Finished) return;
        _active.Remove(chunk.Id);
        DropBuffer(chunk);
        if (chunk.Placement.QuorumMet)
        {
            _placed[chunk.Id] = chunk.Placement.Holders;
            StartCommitWhenPlaced();
            return;
        }
        var failures = chunk.Placement.Failures;
        chunk.ReplyTo.Tell(new ChunkStoreFailed(chunk.Id,
            $"chunk {chunk.Id.ToShortString()} is durable on {chunk.Placement.Holders.Count} node(s), the write quorum is {_quorum} of {_ring.Size}" +
            (failures.Count > 0 ? $" ({string.Join("; ", failures)})" : $" ({_ring.Reachable.Count()} reachable)"),
            StoreErrorCodes.SingleOr(chunk.FailureCodes)));
    }
}
