using Akka.Actor;
using Akka.Cluster;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Replication;
using ObjectStore.Actors.Replication.Repair;
using ObjectStore.Actors.Replication.Sync;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.IndexProtocol;

namespace ObjectStore.Actors.Coordination;

/// <summary>Gathers `status`: this node's repair queue, anti-entropy and scrubber; for the cluster, every member's.</summary>
internal static class NodeHealthReport
{
    public static async Task<NodeHealth> Of(ActorSystem system, StoreSettings settings, StoreNode.Handles node)
    {
        var timeout = settings.RequestTimeout / 2;
        var repair = system.ActorSelection($"/user/{RepairActor.Name}").Ask<RepairProtocol.RepairStatus>(RepairProtocol.GetRepairStatus.Instance, timeout);
        var sync = system.ActorSelection($"/user/{AntiEntropyActor.Name}").Ask<AntiEntropyActor.AntiEntropyStatus>(AntiEntropyActor.GetAntiEntropyStatus.Instance, timeout);
        var scrub = system.ActorSelection($"/user/{ScrubberActor.Name}").Ask<ScrubberActor.ScrubStatus>(ScrubberActor.GetScrubStatus.Instance, timeout);
        var objects = node.Index.Ask<object>(CountObjects.Instance, timeout);
        var (r, a, s) = (await repair, await sync, await scrub);
        var count = await objects as ObjectCount;
        return new NodeHealth(node.NodeId, ((ExtendedActorSystem)system).Provider.DefaultAddress.ToString(), "Up", true,
            count?.Objects ?? -1, node.Chunks.Count,
            r.Entries, r.Bytes, r.Backlog.OrderBy(b => b.Key, StringComparer.Ordinal).Select(b => new PeerBacklog(b.Key, b.Value.Entries, b.Value.Bytes)).ToList(),
            r.Running, r.CopiesMade, r.BytesRepaired, r.Failures, r.BytesPerSecond, settings.Repair.Rate, r.LastError,
            Ms(a.LastPass), a.Passes, a.Differences,
            s.Running, Ms(s.LastPassEnded), s.Checked, s.Left, s.CorruptFound, node.Chunks.QuarantinedCount(),
            DrainingNodes.Of(system).IsDraining(node.NodeId));
    }

    /// <summary>
    /// Every member asked for its own health, as `members` does: one that cannot answer (unreachable, on its
    /// way out) or does not answer within half the request timeout is listed as not answering.
    /// </summary>
    public static async Task<ClusterHealth> OfCluster(ActorSystem system, StoreSettings settings, StoreNode.Handles node)
    {
        if (((ExtendedActorSystem)system).Provider is not ClusterActorRefProvider) return new ClusterHealth([await Of(system, settings, node)]);
        var state = Cluster.Get(system).State;
        var unreachable = state.Unreachable.Select(m => m.Address).ToHashSet();
        var asks = state.Members.Where(m => m.HasRole(ClusterRing.StorageRole)).Select(async m =>
        {
            var nodeId = ClusterRing.NodeIdOf(m.Roles) ?? "";
            var status = unreachable.Contains(m.Address) ? $"{m.Status} (unreachable)" : m.Status.ToString();
            if (unreachable.Contains(m.Address) || m.Status is not (MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Leaving))
                return new NodeHealth(nodeId, m.Address.ToString(), status, false);
            try
            {
                var reply = await system.ActorSelection(new RootActorPath(m.Address) / "user" / StoreCoordinator.Name)
                    .Ask<object>(GetNodeHealth.Instance, settings.RequestTimeout / 2);
                return reply is NodeHealth h
                    ? h with { Address = m.Address.ToString(), Status = h.Draining ? status + ", draining" : status }
                    : new NodeHealth(nodeId, m.Address.ToString(), status, false);
            }
            catch (Exception e) when (e is AskTimeoutException or ActorNotFoundException or TaskCanceledException)
            {
                return new NodeHealth(nodeId, m.Address.ToString(), status, false);
            }
        });
        var notice = ClusterJoin.NotJoinedNotice(system) ?? "";
        return new ClusterHealth((await Task.WhenAll(asks)).OrderBy(h => h.Address, StringComparer.Ordinal).ToList(), notice);
    }

    private static long Ms(DateTimeOffset at) => at == default ? 0 : at.ToUnixTimeMilliseconds();
}
