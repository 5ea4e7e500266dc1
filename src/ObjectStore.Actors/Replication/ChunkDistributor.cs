using Akka.Actor;
using Akka.Event;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Chunking;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;
using static ObjectStore.Actors.Protocol.ReplicaProtocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.StorageProtocol;

namespace ObjectStore.Actors.Replication;

/// <summary>
/// The write path of one put across the cluster. To its chunker it looks like a storage actor: it
/// takes each chunk (StoreChunk) and answers ChunkStored once the chunk is durable on at least the
/// write quorum of nodes, or ChunkStoreFailed when it cannot be. Each chunk goes to its owners (the
/// first <c>factor</c> nodes of its rendezvous order): this node's storage actor directly, other nodes
/// through the replicator. An owner that is unreachable, or whose transfer fails after its retries,
/// is replaced by the next node in the order (hand-off), so the factor is still met where it can be.
/// Then the manifest (CommitObject) goes to the key's owners and to every node holding one of the
/// object's chunks, and the put counts as done only when the quorum holds for the metadata and, for
/// every chunk, among the nodes that now reference it. A put that misses it is undone where it landed.
/// </summary>
public sealed class ChunkDistributor : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly StoreSettings _settings;
    private readonly IActorRef _storage;
    private readonly IActorRef _replicator;
    private readonly ClusterRing _ring;
    private readonly string _uploadId;
    private readonly int _factor;
    private readonly int _quorum;

    private sealed class Placement(ContentHash id, ChunkBuffer buffer, IActorRef replyTo, Queue<RingMember> spare)
    {
        public ContentHash Id { get; } = id;
        public ChunkBuffer Buffer { get; } = buffer;
        public int Length { get; } = buffer.Length;
        public IActorRef ReplyTo { get; } = replyTo;
        public Queue<RingMember> Spare { get; } = spare;
        public int Pending { get; set; }
        public int Occurrences { get; set; } = 1;
        public bool Written { get; set; }
        public List<string> Holders { get; } = [];
        public List<string> Failures { get; } = [];
        public HashSet<StoreErrorCode> FailureCodes { get; } = [];
        /// <summary>Targets still holding the bytes (a local write until its temp file is written, a push until it ends).</summary>
        public int TargetsHoldingBuffer { get; set; }
        /// <summary>This distributor keeps a reference only while a hand-off may need the bytes again.</summary>
        public bool Held { get; set; } = true;
        public bool SlotReleased { get; set; }
    }

    private readonly Dictionary<ContentHash, Placement> _active = new();
    private readonly Dictionary<ContentHash, List<string>> _placed = new();
    private readonly Dictionary<long, (Placement Placement, RingMember Target)> _pushes = new();
    private readonly HashSet<RingMember> _touched = [];
    private long _nextRequest;

    // Commit phase.
    private sealed record CommitReply(RingMember Node, bool Durable, bool Current, string? Failure, StoreErrorCode Code = StoreErrorCode.Unavailable) : ILocalMessage;
    private ObjectManifest? _manifest;
    private IActorRef _commitReplyTo = ActorRefs.Nobody;
    private HashSet<string> _keyTargets = [];
    private readonly Dictionary<string, CommitReply> _commitReplies = new();
    private int _commitsPending;

    public ChunkDistributor(StoreSettings settings, IActorRef storage, IActorRef replicator, ClusterRing ring, string uploadId)
    {
        _settings = settings;
        _storage = storage;
        _replicator = replicator;
        _ring = ring;
        _uploadId = uploadId;
        _factor = settings.Replication.EffectiveFactor(ring.Size);
        _quorum = settings.Replication.EffectiveQuorum(ring.Size);

        Receive<StoreChunk>(HandleStoreChunk);
        Receive<ChunkBufferReleased>(m =>
        {
            if (_active.TryGetValue(m.Id, out var p)) TargetReleased(p);
        });
        Receive<ChunkStored>(m => Resolve(m.Id, Local, durable: true, written: m.Written, failure: null));
        Receive<ChunkStoreFailed>(m => Resolve(m.Id, Local, durable: false, written: false, failure: m.Reason, m.Code));
        Receive<PushDone>(HandlePushDone);
        Receive<CommitObject>(HandleCommit);
        Receive<CommitReply>(HandleCommitReply);
    }

    public static Props Props(StoreSettings settings, IActorRef storage, IActorRef replicator, ClusterRing ring, string uploadId) =>
        Akka.Actor.Props.Create(() => new ChunkDistributor(settings, storage, replicator, ring, uploadId));

    private RingMember Local => _ring.Find(_ring.SelfId)!;

    protected override void PostStop()
    {
        foreach (var p in _active.Values.Where(p => p.Held)) p.Buffer.Dispose();
        // The other nodes may now collect what the put sent them and nothing references. A node that
        // received the manifest has ended the upload with its commit already.
        var committed = _commitReplies.Values.Where(r => r.Durable).Select(r => r.Node.NodeId).ToHashSet();
        foreach (var node in _touched.Where(n => n.NodeId != _ring.SelfId && !committed.Contains(n.NodeId)))
            ClusterRing.ReplicatorOf(Context, node.Address).Tell(new ReleaseReplicaUpload(_uploadId), ActorRefs.NoSender);
    }

    /// <summary>The first <c>factor</c> reachable nodes of an order, and the reachable rest as hand-off candidates.</summary>
    private (List<RingMember> Targets, Queue<RingMember> Spare) Choose(IReadOnlyList<RingMember> order)
    {
        var owners = order.Take(_factor).Where(m => m.Reachable).ToList();
        var spare = new Queue<RingMember>(order.Skip(_factor).Where(m => m.Reachable));
        while (owners.Count < _factor && spare.Count > 0) owners.Add(spare.Dequeue());
        return (owners, spare);
    }

    private void HandleStoreChunk(StoreChunk m)
    {
        if (_placed.ContainsKey(m.Id) || _active.TryGetValue(m.Id, out _))
        {
            // The same chunk again in this object: it is (being) placed already.
            m.Data.Dispose();
            Sender.Tell(new ChunkBufferReleased(m.Id));
            if (_active.TryGetValue(m.Id, out var running)) running.Occurrences++;
            else Sender.Tell(new ChunkStored(m.Id, m.Data.Length, false));
            return;
        }
        var (targets, spare) = Choose(_ring.Candidates(m.Id));
        var placement = new Placement(m.Id, m.Data, Sender, spare);
        _active[m.Id] = placement;
        foreach (var target in targets) Start(placement, target);
        if (spare.Count == 0)
        {
            // No node to hand off to: once the targets have their bytes, nothing needs them again.
            placement.Held = false;
            placement.Buffer.Dispose();
        }
        Finish(placement);
    }

    /// <summary>
    /// The chunker's memory slot comes back when the bytes are really free: when every target is done
    /// with them and this distributor keeps none. A local write frees them once its temp file is
    /// written, long before the group commit makes it durable, so a one-node put streams as before.
    /// </summary>
    private void TargetReleased(Placement p)
    {
        p.TargetsHoldingBuffer--;
        if (p.Held || p.SlotReleased || p.TargetsHoldingBuffer > 0) return;
        p.SlotReleased = true;
        p.ReplyTo.Tell(new ChunkBufferReleased(p.Id));
    }

    private void Start(Placement p, RingMember target)
    {
        p.Pending++;
        p.TargetsHoldingBuffer++;
        _touched.Add(target);
        if (target.NodeId == _ring.SelfId)
        {
            _storage.Tell(new StoreChunk(p.Id, p.Buffer.Retain(), _uploadId));
            return;
        }
        var request = ++_nextRequest;
        _pushes[request] = (p, target);
        _replicator.Tell(new PushChunk(request, p.Id, p.Buffer.Retain(), target, _uploadId));
    }

    private void HandlePushDone(PushDone m)
    {
        if (!_pushes.Remove(m.RequestId, out var push)) return;
        if (_active.ContainsKey(push.Placement.Id)) TargetReleased(push.Placement);
        Resolve(push.Placement.Id, push.Target, m.Durable, written: false, failure: m.Reason);
    }

    private void Resolve(ContentHash id, RingMember node, bool durable, bool written, string? failure, StoreErrorCode code = StoreErrorCode.Unavailable)
    {
        if (!_active.TryGetValue(id, out var p)) return;
        p.Pending--;
        if (durable)
        {
            p.Holders.Add(node.NodeId);
            p.Written |= written;
        }
        else
        {
            p.Failures.Add($"{node.NodeId}: {failure}");
            p.FailureCodes.Add(code);
            _log.Warning("chunk {0} could not be placed on {1}: {2}", id.ToShortString(), node.NodeId, failure);
            if (p.Spare.Count > 0)
            {
                var next = p.Spare.Dequeue();
                _log.Info("handing chunk {0} off to {1}", id.ToShortString(), next.NodeId);
                Start(p, next);
            }
        }
        Finish(p);
    }

    private void Finish(Placement p)
    {
        if (p.Pending > 0) return;
        _active.Remove(p.Id);
        if (p.Held) p.Buffer.Dispose();
        if (!p.SlotReleased) p.ReplyTo.Tell(new ChunkBufferReleased(p.Id));
        if (p.Holders.Count >= _quorum)
        {
            _placed[p.Id] = p.Holders;
            for (var i = 0; i < p.Occurrences; i++) p.ReplyTo.Tell(new ChunkStored(p.Id, p.Length, p.Written && i == 0));
            return;
        }
        p.ReplyTo.Tell(new ChunkStoreFailed(p.Id,
            $"chunk {p.Id.ToShortString()} is durable on {p.Holders.Count} node(s), the write quorum is {_quorum} of {_ring.Size}" +
            (p.Failures.Count > 0 ? $" ({string.Join("; ", p.Failures)})" : $" ({_ring.Reachable.Count()} reachable)"),
            SingleOr(p.FailureCodes)));
    }

    /// <summary>The error code of the failures when they agree (a disk error on every node is a storage failure), else Unavailable.</summary>
    private static StoreErrorCode SingleOr(IReadOnlySet<StoreErrorCode> codes) => codes.Count == 1 ? codes.First() : StoreErrorCode.Unavailable;

    private void HandleCommit(CommitObject m)
    {
        _manifest = m.Manifest;
        _commitReplyTo = Sender;
        var (keyTargets, _) = Choose(_ring.Candidates(m.Manifest.Bucket, m.Manifest.Key));
        _keyTargets = keyTargets.Select(t => t.NodeId).ToHashSet();
        var everyone = keyTargets.Select(t => t.NodeId)
            .Concat(_placed.Values.SelectMany(h => h))
            .Distinct()
            .Select(id => _ring.Find(id)!)
            .ToList();
        if (everyone.Count == 0)
        {
            Sender.Tell(new StoreError(StoreErrorCode.Unavailable, $"put of {m.Manifest.Bucket}/{m.Manifest.Key} failed: no node is reachable for its metadata"));
            return;
        }
        foreach (var node in everyone)
        {
            _touched.Add(node);
            _commitsPending++;
            var target = node;
            CommitOn(ClusterRing.ReplicatorOf(Context, node.Address), m.Manifest)
                .PipeTo(Context.Self,
                    success: reply => reply switch
                    {
                        ReplicaCommitted c => new CommitReply(target, true, c.Current, null),
                        StoreError e => new CommitReply(target, false, false, e.Message, e.Code),
                        _ => new CommitReply(target, false, false, $"unexpected reply {reply.GetType().Name}"),
                    },
                    failure: e => new CommitReply(target, false, false, e is AskTimeoutException ? "no answer" : e.Message));
        }
    }

    /// <summary>
    /// Sends the manifest to one node: in one message when its chunk list fits one page, else the list
    /// page by page first (each page must be taken before the next goes), then the commit without it.
    /// </summary>
    private async Task<object> CommitOn(ActorSelection replicator, ObjectManifest manifest)
    {
        var timeout = _settings.Replication.TransferTimeout;
        var page = _settings.Replication.ManifestPage;
        if (manifest.Chunks.Count <= page) return await replicator.Ask<object>(new CommitReplica(manifest, _uploadId), timeout);
        for (var start = 0; start < manifest.Chunks.Count; start += page)
        {
            var chunks = manifest.Chunks.Skip(start).Take(page).ToList();
            var reply = await replicator.Ask<object>(new StageChunks(_uploadId, manifest.VersionId, start, chunks), timeout);
            if (reply is not ChunksStaged staged || staged.Next != start + chunks.Count) return reply;
        }
        return await replicator.Ask<object>(new CommitReplica(manifest with { Chunks = [] }, _uploadId, ChunksStaged: true), timeout);
    }

    private void HandleCommitReply(CommitReply m)
    {
        _commitReplies[m.Node.NodeId] = m;
        if (--_commitsPending > 0 || _manifest is null) return;

        var committed = _commitReplies.Values.Where(r => r.Durable).Select(r => r.Node.NodeId).ToHashSet();
        var keyCopies = _keyTargets.Count(committed.Contains);
        var problems = new List<string>();
        if (keyCopies < _quorum) problems.Add($"its metadata is durable on {keyCopies} node(s), the write quorum is {_quorum}");
        // A node keeps a chunk only while an object it knows references it: the chunk counts where the manifest landed.
        var weak = _placed.Where(c => c.Value.Count(committed.Contains) < _quorum).Select(c => c.Key.ToShortString()).ToList();
        if (weak.Count > 0) problems.Add($"{weak.Count} chunk(s) are referenced on fewer than {_quorum} nodes");
        if (problems.Count == 0)
        {
            _commitReplyTo.Tell(new ObjectCommitted(_manifest, committed.Count > 0 && _commitReplies.Values.Any(r => r.Current)));
            return;
        }
        foreach (var node in _commitReplies.Values.Where(r => r.Durable))
            ClusterRing.ReplicatorOf(Context, node.Node.Address).Tell(new DropReplica(_manifest.Bucket, _manifest.Key, _manifest.VersionId), ActorRefs.NoSender);
        var failed = _commitReplies.Values.Where(r => !r.Durable).ToList();
        var failures = failed.Select(r => $"{r.Node.NodeId}: {r.Failure}");
        _commitReplyTo.Tell(new StoreError(SingleOr(failed.Select(r => r.Code).ToHashSet()),
            $"put of {_manifest.Bucket}/{_manifest.Key} failed: {string.Join("; ", problems)} ({string.Join("; ", failures)}); nothing was stored"));
    }
}
