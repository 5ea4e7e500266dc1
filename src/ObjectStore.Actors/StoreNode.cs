using Akka.Actor;
using Akka.Configuration;
using Akka.Pattern;
using ObjectStore.Actors.Coordination;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Replication;
using ObjectStore.Actors.Replication.Repair;
using ObjectStore.Actors.Replication.Sync;
using ObjectStore.Actors.Storage;
using ObjectStore.Actors.Transfer;
using ObjectStore.Core.Storage;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors;

/// <summary>Starts one node's actors in an actor system (docs/ARCHITECTURE.md names each and its job).</summary>
public static class StoreNode
{
    /// <param name="Keeper">Chunk writes, claims, pins and collection (<c>/user/chunk-keeper</c>).</param>
    /// <param name="Index">The object index (<c>/user/object-index</c>).</param>
    /// <param name="Reader">Verified chunk reads (<c>/user/chunk-reader</c>).</param>
    public sealed record Handles(IActorRef Coordinator, IActorRef Keeper, IActorRef Index, IActorRef Reader, string NodeId, ChunkStore Chunks,
        DataPlane? DataPlane = null, Link.ClientLinkHost? Link = null);

    /// <summary>
    /// The actor system's configuration for a node on <paramref name="dataDirectory"/>: its cluster roles
    /// gain "node:&lt;id&gt;" (the stable id kept in the data directory), which placement reads from gossip.
    /// </summary>
    public static Config WithNodeRole(Config config, string dataDirectory)
    {
        var nodeId = NodeIdentity.LoadOrCreate(dataDirectory);
        var roles = config.GetStringList("akka.cluster.roles", []).Where(r => !r.StartsWith(ClusterRing.NodeRolePrefix, StringComparison.Ordinal))
            .Append(ClusterRing.NodeRolePrefix + nodeId)
            .Select(r => $"\"{r}\"");
        return ConfigurationFactory.ParseString($"akka.cluster.roles = [{string.Join(", ", roles)}]").WithFallback(config);
    }

    /// <param name="linkFaults">Tests only: which chunk bodies this node's data connections cut off mid-way.</param>
    public static Handles Start(ActorSystem system, StoreSettings settings, IStorageFaults? faults = null, DataLinkFaults? linkFaults = null)
    {
        settings.Validate();
        // Held until the actor system ends (the kernel lets go if the process dies first).
        var dataLock = DataDirectoryLock.Acquire(settings.DataDirectory);
        system.RegisterOnTermination(dataLock.Dispose);
        var nodeId = NodeIdentity.LoadOrCreate(settings.DataDirectory);
        if (((ExtendedActorSystem)system).Provider is Akka.Cluster.ClusterActorRefProvider
            && ClusterRing.NodeIdOf(Akka.Cluster.Cluster.Get(system).SelfRoles) != nodeId)
            throw new ConfigurationException(
                $"this node's cluster roles must include \"{ClusterRing.NodeRolePrefix}{nodeId}\" (build its configuration with StoreNode.WithNodeRole)");
        var chunks = new ChunkStore(settings.DataDirectory, settings.Fsync, faults, settings.DirectIo, settings.DirectReads);
        system.RegisterOnTermination(Metrics.StoreMetrics.ObserveQuarantined(() => chunks.QuarantinedCount()).Dispose);
        var started = DateTime.UtcNow;
        var keeper = system.ActorOf(Supervised(settings, ChunkKeeperActor.Props(settings, chunks, nodeId, started), "keeper"), ChunkKeeperActor.Name);
        // Every message to the index is a request: while it restarts, each is answered at once instead of timing out.
        var restarting = new StoreError(StoreErrorCode.Unavailable,
            $"node {nodeId}: the object index is restarting after a storage failure (it retries with backoff); try again in a moment");
        var index = system.ActorOf(Supervised(settings, ObjectIndexActor.Props(settings, keeper, faults), "index", restarting), ObjectIndexActor.Name);
        var reader = system.ActorOf(ChunkReaderActor.Props(chunks, settings.ReadParallelism,
            settings.Chunking.Kernel), "chunk-reader");
        DataPlane? dataPlane = null;
        if (settings.DataPlane)
        {
            var host = system.Settings.Config.GetString("akka.remote.dot-netty.tcp.hostname", "127.0.0.1");
            dataPlane = new DataPlane(host, settings.DataPort, Akka.Event.Logging.GetLogger(system, "data-plane"), settings.LocalHandOver);
            system.RegisterOnTermination(dataPlane.Dispose);
        }
        DataLinks.Register(system, settings.Replication.DataConnections ? dataPlane : null, linkFaults);
        var pushes = system.ActorOf(OutgoingPushes.Props(settings), OutgoingPushes.Name);
        system.ActorOf(ChunkEndpoint.Props(settings, keeper, reader), ChunkEndpoint.Name);
        system.ActorOf(ReplicaEndpoint.Props(settings, keeper, index, nodeId), ReplicaEndpoint.Name);
        system.ActorOf(RepairActor.Props(settings, index, reader, pushes, nodeId), RepairActor.Name);
        system.ActorOf(ScrubberActor.Props(settings, chunks, reader, index, nodeId), ScrubberActor.Name);
        system.ActorOf(SyncEndpoint.Props(settings, index, chunks, nodeId), SyncEndpoint.Name);
        system.ActorOf(DrainActor.Props(settings, index, nodeId), DrainActor.Name);
        system.ActorOf(AntiEntropyActor.Props(settings, index, keeper, chunks, nodeId), AntiEntropyActor.Name);
        if (((ExtendedActorSystem)system).Provider is Akka.Cluster.ClusterActorRefProvider) system.ActorOf(ClusterJoinWatch.Props(), ClusterJoinWatch.Name);
        var handles = new Handles(ActorRefs.Nobody, keeper, index, reader, nodeId, chunks, dataPlane);
        var coordinator = system.ActorOf(StoreCoordinator.Props(settings, handles, pushes), StoreCoordinator.Name);
        return handles with { Coordinator = coordinator, Link = settings.LocalLink ? Link.ClientLinkHost.Start(system, coordinator) : null };
    }

    /// <summary>
    /// A storage failure (disk error, database error) stops the actor; its backoff supervisor starts a fresh
    /// one after 1 s, 2 s, 4 s ... so a failing disk is not hammered and the node itself stays up. Messages
    /// that arrive meanwhile are answered <paramref name="replyWhileStopped"/>, or lost without it (the keeper
    /// also takes one-way messages, whose senders expect no answer).
    /// </summary>
    private static Props Supervised(StoreSettings settings, Props child, string name, object? replyWhileStopped = null)
    {
        var options = Backoff.OnFailure(child, name, settings.StorageRestartMinBackoff, settings.StorageRestartMaxBackoff,
                randomFactor: 0.2, maxNrOfRetries: -1)
            .WithAutoReset(TimeSpan.FromSeconds(60));
        return BackoffSupervisor.Props(replyWhileStopped is null ? options : options.WithReplyWhileStopped(replyWhileStopped));
    }
}
