using Akka.Actor;
using Akka.Event;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;
using ObjectStore.Core.Placement;
using static ObjectStore.Actors.Protocol.ReplicaProtocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.IndexProtocol;

namespace ObjectStore.Actors.Replication;

/// <summary>
/// The commit phase of a <see cref="ChunkDistributor"/>: sends the put's manifest to the key's owners and
/// to every node that holds one of its chunks, collects their answers, and answers the put — or, when
/// <see cref="PutQuorum"/> says it falls short, drops the version where it landed and says why.
/// </summary>
internal sealed class DistributorCommit(IActorContext context, StoreSettings settings, ClusterRing ring, string uploadId, int quorum, ILoggingAdapter log)
{
    public sealed record Reply(RingMember Node, bool Durable, bool Current, string? Failure, StoreErrorCode Code = StoreErrorCode.Unavailable) : ILocalMessage;

    private readonly Dictionary<string, Reply> _replies = new();
    private IReadOnlyDictionary<ContentHash, IReadOnlyList<string>> _placed = new Dictionary<ContentHash, IReadOnlyList<string>>();
    private ObjectManifest? _manifest;
    private IActorRef _replyTo = ActorRefs.Nobody;
    private HashSet<string> _keyOwners = [];
    private int _pending;

    public bool CommittedOn(string nodeId) => _replies.TryGetValue(nodeId, out var r) && r.Durable;

    /// <summary>Sends the manifest out; returns the nodes it went to.</summary>
    public IReadOnlyList<RingMember> Start(ObjectManifest manifest, IActorRef replyTo, IReadOnlyDictionary<ContentHash, IReadOnlyList<string>> placed)
    {
        _manifest = manifest;
        _replyTo = replyTo;
        _placed = placed;
        var order = ring.Candidates(manifest.Bucket, manifest.Key).Select(n => new Candidate(n.NodeId, n.Reachable)).ToList();
        var (owners, _) = ChunkPlacement.Choose(order, settings.Replication.EffectiveFactor(ring.Size));
        _keyOwners = owners.ToHashSet();
        var everyone = owners.Concat(placed.Values.SelectMany(h => h)).Distinct().Select(id => ring.Find(id)!).ToList();
        if (everyone.Count == 0)
        {
            replyTo.Tell(new StoreError(StoreErrorCode.Unavailable, $"put of {manifest.Bucket}/{manifest.Key} failed: no node is reachable for its metadata"));
            return everyone;
        }
        foreach (var node in everyone)
        {
            _pending++;
            var target = node;
            CommitOn(ClusterRing.ReplicasOf(context, node.Address), manifest)
                .PipeTo(context.Self,
                    success: reply => reply switch
                    {
                        ReplicaCommitted c => new Reply(target, true, c.Current, null),
                        StoreError e => new Reply(target, false, false, e.Message, e.Code),
                        _ => new Reply(target, false, false, $"unexpected reply {reply.GetType().Name}"),
                    },
                    failure: e => new Reply(target, false, false, e is AskTimeoutException ? "no answer" : e.Message));
        }
        return everyone;
    }

    /// <summary>
    /// Sends the manifest to one node: in one message when its chunk list fits one page, else the list
    /// page by page first (each page must be taken before the next goes), then the commit without it.
    /// </summary>
    private async Task<object> CommitOn(ActorSelection replicas, ObjectManifest manifest)
    {
        var timeout = settings.Replication.TransferTimeout;
        var page = settings.Replication.ManifestPage;
        if (manifest.Chunks.Count <= page) return await replicas.Ask<object>(new CommitReplica(manifest, uploadId), timeout);
        for (var start = 0; start < manifest.Chunks.Count; start += page)
        {
            var chunks = manifest.Chunks.Skip(start).Take(page).ToList();
            var reply = await replicas.Ask<object>(new StageChunks(uploadId, manifest.VersionId, start, chunks), timeout);
            if (reply is not ChunksStaged staged || staged.Next != start + chunks.Count) return reply;
        }
        return await replicas.Ask<object>(new CommitReplica(manifest with { Chunks = [] }, uploadId, ChunksStaged: true), timeout);
    }

    public void Handle(Reply m)
    {
        _replies[m.Node.NodeId] = m;
        if (--_pending > 0 || _manifest is null) return;
        var committed = _replies.Values.Where(r => r.Durable).Select(r => r.Node.NodeId).ToHashSet();
        var problems = PutQuorum.Shortfalls(committed, _keyOwners, _placed, quorum);
        if (problems.Count == 0)
        {
            _replyTo.Tell(new ObjectCommitted(_manifest, committed.Count > 0 && _replies.Values.Any(r => r.Current)));
            return;
        }
        foreach (var node in _replies.Values.Where(r => r.Durable))
            ClusterRing.ReplicasOf(context, node.Node.Address).Tell(new DropReplica(_manifest.Bucket, _manifest.Key, _manifest.VersionId), ActorRefs.NoSender);
        var failed = _replies.Values.Where(r => !r.Durable).ToList();
        var failures = string.Join("; ", failed.Select(r => $"{r.Node.NodeId}: {r.Failure}"));
        log.Warning("put of {0}/{1} missed its quorum: {2} ({3})", _manifest.Bucket, _manifest.Key, string.Join("; ", problems), failures);
        _replyTo.Tell(new StoreError(SingleOr(failed.Select(r => r.Code).ToHashSet()),
            $"put of {_manifest.Bucket}/{_manifest.Key} failed: {string.Join("; ", problems)} ({failures}); nothing was stored"));
    }

    /// <summary>The error code of the failures when they agree (a disk error on every node is a storage failure), else Unavailable.</summary>
    public static StoreErrorCode SingleOr(IReadOnlySet<StoreErrorCode> codes) => codes.Count == 1 ? codes.First() : StoreErrorCode.Unavailable;
}
