using Akka.Actor;
using Akka.Event;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Replication.Repair;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;
using ObjectStore.Core.Placement;
using static ObjectStore.Actors.Protocol.ReplicaProtocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.IndexProtocol;

namespace ObjectStore.Actors.Replication;

/// <summary>
/// The commit phase of a <see cref="ChunkDistributor"/>: sends the put's manifest to the key's owners and
/// to every node that holds one of its chunks and collects their answers. Once <see cref="PutQuorum"/> holds,
/// the nodes still silent get a late-copy-grace more; then the copies the put still lacks (a node that did
/// not commit, an owner that missed a chunk, a copy no node exists for) go into this node's repair queue,
/// and only then is the put answered, saying how many copies it has and how many are queued. A put whose
/// quorum fails is dropped where it landed, and says why.
/// </summary>
/// <param name="index">The object's place in a batch of small puts (its answers then come as <see cref="BatchOutcome"/>); -1 for a put of its own.</param>
/// <param name="commitOn">Sends the manifest to one node; completes with the node's reply.</param>
internal sealed class DistributorCommit(IActorContext context, StoreSettings settings, ClusterRing ring, string uploadId,
    IReadOnlySet<string> late, ILoggingAdapter log, Func<ITimerScheduler> timers, int index,
    Func<RingMember, ObjectManifest, string, Task<object>> commitOn)
{
    /// <param name="Missing">Chunks the put counted on the node that it says are not on its disk.</param>
    public sealed record Reply(int Index, RingMember Node, bool Durable, bool Current, string? Failure, StoreErrorCode Code = StoreErrorCode.Unavailable,
        IReadOnlyList<ContentHash>? Missing = null) : ILocalMessage;
    public sealed record GraceOver(int Index) : ILocalMessage;
    /// <summary>The repair queue took the put's missing copies (<paramref name="Failure"/> null) or could not.</summary>
    public sealed record RepairsDone(int Index, StoreError? Failure) : ILocalMessage;
    /// <summary>How one object of a batch ended: ObjectCommitted or StoreError.</summary>
    public sealed record BatchOutcome(int Index, object Outcome) : ILocalMessage;

    public string UploadId => uploadId;

    private void Answer(object answer) => _replyTo.Tell(index < 0 ? answer : new BatchOutcome(index, answer));

    private readonly Dictionary<string, Reply> _replies = new();
    private readonly HashSet<string> _waiting = new(StringComparer.Ordinal);
    private IReadOnlyDictionary<ContentHash, IReadOnlyList<string>> _placed = new Dictionary<ContentHash, IReadOnlyList<string>>();
    private ObjectManifest? _manifest;
    private IActorRef _replyTo = ActorRefs.Nobody;
    private HashSet<string> _keyOwners = [];
    private DateTime _started;
    private bool _decided;
    private ObjectCommitted? _answer;

    private int Factor => settings.Replication.Factor;
    private int Quorum => settings.Replication.WriteQuorum;

    /// <summary>Whether the manifest became the key's version on the node, which ended the put's pins there (a refused commit leaves them).</summary>
    public bool CommittedOn(string nodeId) => _replies.TryGetValue(nodeId, out var r) && r.Durable && r.Current;

    /// <summary>Sends the manifest out; returns the nodes it went to.</summary>
    public IReadOnlyList<RingMember> Start(ObjectManifest manifest, IActorRef replyTo, IReadOnlyDictionary<ContentHash, IReadOnlyList<string>> placed)
    {
        _manifest = manifest;
        _replyTo = replyTo;
        // Only this object's chunks count for it (a batch places the chunks of many objects).
        var chunks = manifest.Chunks.Select(c => c.Id).ToHashSet();
        _placed = placed.Where(p => chunks.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value);
        _started = DateTime.UtcNow;
        var order = ClusterRing.WriteOrder(ring.Candidates(manifest.Bucket, manifest.Key), late, Quorum);
        var (owners, _) = ChunkPlacement.Choose(order, Factor);
        _keyOwners = owners.ToHashSet();
        var everyone = owners.Concat(_placed.Values.SelectMany(h => h)).Distinct().Select(id => ring.Find(id)!).ToList();
        if (everyone.Count == 0)
        {
            _decided = true;
            Answer(new StoreError(StoreErrorCode.Unavailable, $"put of {manifest.Bucket}/{manifest.Key} failed: no node is reachable for its metadata; nothing was stored"));
            return everyone;
        }
        foreach (var node in everyone)
        {
            _waiting.Add(node.NodeId);
            var target = node;
            commitOn(node, manifest, uploadId)
                .PipeTo(context.Self,
                    success: reply => reply switch
                    {
                        ReplicaCommitted c => new Reply(index, target, true, c.Current, null, Missing: c.Missing),
                        StoreError e => new Reply(index, target, false, false, e.Message, e.Code),
                        _ => new Reply(index, target, false, false, $"unexpected reply {reply.GetType().Name}"),
                    },
                    failure: e => new Reply(index, target, false, false, e is AskTimeoutException ? "no answer" : e.Message));
        }
        return everyone;
    }

    public void Handle(Reply m)
    {
        if (_decided || !_waiting.Remove(m.Node.NodeId)) return;
        _replies[m.Node.NodeId] = m;
        if (m.Missing is { Count: > 0 } missing)
        {
            // The node committed the metadata but lacks these chunks now: it no longer counts as holding them.
            var placed = _placed.ToDictionary(p => p.Key, p => p.Value);
            foreach (var id in missing)
                if (placed.TryGetValue(id, out var holders)) placed[id] = holders.Where(h => h != m.Node.NodeId).ToList();
            _placed = placed;
        }
        if (_waiting.Count == 0)
        {
            Decide();
            return;
        }
        // The quorum holds with the answers so far: the others get a grace, as the chunks' late targets did.
        if (_replies.Count(r => r.Value.Durable) >= Quorum && Shortfalls().Count == 0 && !_graceStarted)
        {
            _graceStarted = true;
            var grace = settings.Replication.LateCopyGrace;
            var took = DateTime.UtcNow - _started;
            timers().StartSingleTimer((nameof(GraceOver), index), new GraceOver(index), took > grace ? took : grace);
        }
    }

    private bool _graceStarted;

    /// <summary>The nodes still silent after the grace are left to the repair queue.</summary>
    public void GiveUpOnLate()
    {
        if (_decided) return;
        if (_waiting.Count > 0)
            log.Info("put of {0}/{1}: no commit from {2} yet; going on without, its copy is queued", _manifest!.Bucket, _manifest.Key, string.Join(", ", _waiting));
        _waiting.Clear();
        Decide();
    }

    private HashSet<string> Committed => _replies.Values.Where(r => r.Durable).Select(r => r.Node.NodeId).ToHashSet();

    private IReadOnlyList<string> Shortfalls() => PutQuorum.Shortfalls(Committed, _keyOwners, _placed, Quorum);

    private void Decide()
    {
        _decided = true;
        var manifest = _manifest!;
        var committed = Committed;
        var problems = Shortfalls();
        if (problems.Count == 0)
        {
            var entries = MissingCopies(manifest, committed);
            var copies = Math.Min(committed.Count, _placed.Count == 0 ? int.MaxValue : _placed.Values.Min(h => h.Count(committed.Contains)));
            var unplaced = Math.Max(0, Factor - ring.Size);
            _answer = new ObjectCommitted(manifest, committed.Count > 0 && _replies.Values.Any(r => r.Current), copies, Factor,
                entries.Count(e => e.Target.Length > 0) + unplaced);
            if (entries.Count == 0)
            {
                Answer(_answer);
                return;
            }
            // In the queue before the answer: a crash after the answer cannot forget the missing copies.
            context.ActorSelection($"/user/{RepairActor.Name}").Ask<object>(new RepairProtocol.QueueRepairs(entries), settings.RequestTimeout)
                .PipeTo(context.Self,
                    success: reply => new RepairsDone(index, reply as StoreError),
                    failure: e => new RepairsDone(index, new StoreError(StoreErrorCode.Timeout, $"the repair queue did not answer ({e.GetType().Name})")));
            return;
        }
        foreach (var node in _replies.Values.Where(r => r.Durable))
            ClusterRing.ReplicasOf(context, node.Node.Address).Tell(new DropReplica(manifest.Bucket, manifest.Key, manifest.VersionId), ActorRefs.NoSender);
        var failed = _replies.Values.Where(r => !r.Durable).ToList();
        var failures = string.Join("; ", failed.Select(r => $"{r.Node.NodeId}: {r.Failure}"));
        log.Warning("put of {0}/{1} missed its quorum: {2} ({3})", manifest.Bucket, manifest.Key, string.Join("; ", problems), failures);
        Answer(new StoreError(StoreErrorCodes.SingleOr(failed.Select(r => r.Code)),
            $"put of {manifest.Bucket}/{manifest.Key} failed: {string.Join("; ", problems)} ({failures}); nothing was stored"));
    }

    /// <summary>Every node that should hold the version but did not commit it or lacks a chunk it owns; and one entry with no target while there are fewer nodes than the factor.</summary>
    private List<RepairEntry> MissingCopies(ObjectManifest manifest, IReadOnlySet<string> committed)
    {
        var chunks = manifest.Chunks.Select(c => c.Id).ToList();
        var entries = new List<RepairEntry>();
        foreach (var node in VersionOwners.NodesFor(ring.Placement, manifest.Bucket, manifest.Key, chunks, Factor))
        {
            var reason = !committed.Contains(node) ? (late.Contains(node) ? "late during the put" : "not reachable during the put")
                : VersionOwners.ChunksFor(ring.Placement, node, chunks, Factor).Any(c => !_placed.TryGetValue(c, out var h) || !h.Contains(node))
                    ? "a chunk did not reach it during the put"
                    : null;
            if (reason is not null) entries.Add(new RepairEntry(manifest.VersionId, node, manifest.Bucket, manifest.Key, manifest.Size, reason));
        }
        if (ring.Size < Factor)
            entries.Add(new RepairEntry(manifest.VersionId, "", manifest.Bucket, manifest.Key, manifest.Size,
                $"{ring.Size} storage node(s) for a factor of {Factor}"));
        return entries;
    }

    /// <summary>
    /// The put is answered once its missing copies are queued; if the repair queue could not be written the put
    /// still holds at the quorum, but its missing copies are left to anti-entropy, and the answer says so.
    /// </summary>
    public void Queued(RepairsDone m)
    {
        if (_answer is null) return;
        if (m.Failure is { } e)
            log.Error("put of {0}/{1}: its missing copies could not be queued: {2}", _answer.Manifest.Bucket, _answer.Manifest.Key, e.Message);
        Answer(m.Failure is null ? _answer : _answer with { Queued = 0 });
        _answer = null;
    }
}
