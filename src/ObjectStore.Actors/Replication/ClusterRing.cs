using Akka.Actor;
using Akka.Cluster;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Placement;
using ObjectStore.Actors.Protocol;

namespace ObjectStore.Actors.Replication;

/// <summary>A storage node as placement sees it: its stable id, where it is now, and whether it answers.</summary>
/// <param name="Draining">It is handing its copies over before it leaves: it owns nothing and takes no writes, but still serves reads.</param>
public sealed record RingMember(string NodeId, Address Address, bool Reachable, bool Draining = false)
{
    /// <summary>Whether a write (a put's chunk or commit, a hand-off) may go to it.</summary>
    public bool Writable => Reachable && !Draining;
}

/// <summary>
/// The storage nodes of the cluster at one moment, with rendezvous placement over their node ids.
/// Unreachable members stay in the ring: they are still owners (their data is on their disks), so a
/// node that misses a few heartbeats does not move every key; writes skip them and hand off instead.
/// Draining members (<see cref="DrainingNodes"/>) are left out of placement, so they own nothing, and come
/// last in every order, so reads can still find what they hold.
/// </summary>
public sealed class ClusterRing
{
    /// <summary>Each node announces its stable node id as a cluster role, so every member can map addresses to owners from gossip alone.</summary>
    public const string NodeRolePrefix = "node:";
    public const string StorageRole = "storage";

    private readonly Dictionary<string, RingMember> _byId;
    private readonly RendezvousPlacement _placement;

    public ClusterRing(string selfId, IEnumerable<RingMember> members)
    {
        SelfId = selfId;
        _byId = members.GroupBy(m => m.NodeId).ToDictionary(g => g.Key, g => g.First());
        _placement = new RendezvousPlacement(_byId.Values.Where(m => !m.Draining).Select(m => m.NodeId));
        _draining = _byId.Values.Where(m => m.Draining).OrderBy(m => m.NodeId, StringComparer.Ordinal).ToList();
    }

    private readonly IReadOnlyList<RingMember> _draining;

    public string SelfId { get; }
    /// <summary>Storage nodes that can own data (draining ones do not count).</summary>
    public int Size => _placement.Nodes.Count;
    public IEnumerable<RingMember> Members => _byId.Values;
    public IEnumerable<RingMember> Reachable => _byId.Values.Where(m => m.Reachable);

    /// <summary>Rendezvous placement over every member's node id, reachable or not.</summary>
    public RendezvousPlacement Placement => _placement;

    public RingMember? Find(string nodeId) => _byId.GetValueOrDefault(nodeId);

    /// <summary>Every node, best owner of the chunk first: the first <c>factor</c> own it, the rest are hand-off candidates in order.</summary>
    public IReadOnlyList<RingMember> Candidates(ContentHash chunk) => _placement.OwnersOf(chunk).Select(id => _byId[id]).Concat(_draining).ToList();

    /// <summary>Every node, best owner of the object's metadata first.</summary>
    public IReadOnlyList<RingMember> Candidates(string bucket, string key) => _placement.OwnersOf(bucket, key).Select(id => _byId[id]).Concat(_draining).ToList();

    /// <summary>The node ids that own a chunk: the first <paramref name="factor"/> of its order, reachable or not.</summary>
    public IReadOnlyList<string> OwnersOf(ContentHash chunk, int factor) => _placement.OwnersOf(chunk, factor);

    /// <summary>The node ids that own an object key's metadata.</summary>
    public IReadOnlyList<string> OwnersOf(string bucket, string key, int factor) => _placement.OwnersOf(bucket, key, factor);

    /// <summary>
    /// The storage members now: Up (or leaving, still serving) with a node-id role. This node is always in,
    /// and reachable — unless it is a gateway (no storage role), which owns and holds nothing.
    /// </summary>
    public static ClusterRing Current(ActorSystem system, string selfId)
    {
        var provider = ((ExtendedActorSystem)system).Provider;
        var draining = DrainingNodes.Of(system);
        var self = new RingMember(selfId, provider.DefaultAddress, true, draining.IsDraining(selfId));
        if (provider is not ClusterActorRefProvider) return new ClusterRing(selfId, [self]);
        var cluster = Cluster.Get(system);
        var state = cluster.State;
        var unreachable = state.Unreachable.Select(m => m.UniqueAddress).ToHashSet();
        var members = new List<RingMember>();
        if (cluster.SelfRoles.Contains(StorageRole)) members.Add(self with { Address = cluster.SelfAddress });
        foreach (var m in state.Members)
        {
            if (m.Status is not (MemberStatus.Up or MemberStatus.Leaving or MemberStatus.WeaklyUp)) continue;
            if (!m.HasRole(StorageRole) || NodeIdOf(m.Roles) is not { } id || id == selfId) continue;
            members.Add(new RingMember(id, m.Address, !unreachable.Contains(m.UniqueAddress), draining.IsDraining(id)));
        }
        return new ClusterRing(selfId, members);
    }

    public static string? NodeIdOf(IEnumerable<string> roles) =>
        roles.FirstOrDefault(r => r.StartsWith(NodeRolePrefix, StringComparison.Ordinal))?[NodeRolePrefix.Length..];

    /// <summary>This node's cluster sees that node as unreachable now (false outside a cluster).</summary>
    public static bool SeenUnreachable(ActorSystem system, Address address) =>
        ((ExtendedActorSystem)system).Provider is Akka.Cluster.ClusterActorRefProvider
        && Akka.Cluster.Cluster.Get(system).State.Unreachable.Any(m => m.Address == address);

    /// <summary>A node's chunk endpoint (chunk transfers, who holds what); every node runs one at this path.</summary>
    public static ActorSelection ChunksOf(IActorContext context, Address address) =>
        context.ActorSelection(new RootActorPath(address) / "user" / ChunkEndpoint.Name);

    public static ActorSelection ChunksOf(ActorSystem system, Address address) =>
        system.ActorSelection(new RootActorPath(address) / "user" / ChunkEndpoint.Name);

    /// <summary>
    /// A write's order of nodes: writable ones as placed; the nodes a put found late are left out of its targets
    /// while the others can make the quorum, but stay the last resort for a write that fails elsewhere: slow
    /// is not broken.
    /// </summary>
    public static List<Candidate> WriteOrder(IReadOnlyList<RingMember> candidates, IReadOnlySet<string> late, int quorum)
    {
        var skipLate = candidates.Count(n => n.Writable && !late.Contains(n.NodeId)) >= quorum;
        return candidates.Select(n => new Candidate(n.NodeId, n.Writable, LastResort: skipLate && late.Contains(n.NodeId))).ToList();
    }

    /// <summary>
    /// Which of <paramref name="ids"/> a node holds durably, asked a manifest page at a time (WhichChunks).
    /// <c>Refusal</c> is the first answer that was not a list (its pages count as not held), else null.
    /// </summary>
    public static async Task<(HashSet<ContentHash> Held, string? Refusal)> HeldBy(ActorSystem system, Address node, IReadOnlyList<ContentHash> ids,
        ReplicationSettings settings)
    {
        var held = new HashSet<ContentHash>();
        string? refusal = null;
        for (var start = 0; start < ids.Count; start += settings.ManifestPage)
        {
            var reply = await ChunksOf(system, node).Ask<object>(
                new ChunkTransferProtocol.WhichChunks(ids.Skip(start).Take(settings.ManifestPage).ToList()), settings.TransferTimeout);
            if (reply is ChunkTransferProtocol.ChunksHeld answer) held.UnionWith(answer.Ids);
            else refusal ??= (reply as StoreProtocol.StoreError)?.Message ?? reply.GetType().Name;
        }
        return (held, refusal);
    }

    /// <summary>A node's replica endpoint (object metadata); every node runs one at this path.</summary>
    public static ActorSelection ReplicasOf(IActorContext context, Address address) =>
        context.ActorSelection(new RootActorPath(address) / "user" / ReplicaEndpoint.Name);

    public static ActorSelection ReplicasOf(ActorSystem system, Address address) =>
        system.ActorSelection(new RootActorPath(address) / "user" / ReplicaEndpoint.Name);
}
