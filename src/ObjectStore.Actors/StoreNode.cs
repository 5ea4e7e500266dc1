using Akka.Actor;
using Akka.Configuration;
using Akka.Pattern;
using ObjectStore.Actors.Coordination;
using ObjectStore.Actors.Replication;
using ObjectStore.Actors.Storage;
using ObjectStore.Actors.Transfer;
using ObjectStore.Core.Storage;

namespace ObjectStore.Actors;

/// <summary>Starts one node's actors in an actor system: the supervised storage actor and the coordinator.</summary>
public static class StoreNode
{
    public sealed record Handles(IActorRef Coordinator, IActorRef Storage, string NodeId, DataPlane? DataPlane = null);

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

    public static Handles Start(ActorSystem system, StoreSettings settings, IStorageFaults? faults = null)
    {
        settings.Validate();
        var nodeId = NodeIdentity.LoadOrCreate(settings.DataDirectory);
        if (((ExtendedActorSystem)system).Provider is Akka.Cluster.ClusterActorRefProvider
            && ClusterRing.NodeIdOf(Akka.Cluster.Cluster.Get(system).SelfRoles) != nodeId)
            throw new ConfigurationException(
                $"this node's cluster roles must include \"{ClusterRing.NodeRolePrefix}{nodeId}\" (build its configuration with StoreNode.WithNodeRole)");
        // A storage failure (disk error, database error) stops the storage actor; the backoff
        // supervisor starts a fresh one after 1 s, 2 s, 4 s ... so a failing disk is not hammered
        // and the node itself stays up.
        var storage = system.ActorOf(BackoffSupervisor.Props(
            Backoff.OnFailure(StorageActor.Props(settings, nodeId, DateTime.UtcNow, faults), "storage",
                    settings.StorageRestartMinBackoff, settings.StorageRestartMaxBackoff, randomFactor: 0.2, maxNrOfRetries: -1)
                .WithAutoReset(TimeSpan.FromSeconds(60))), "storage");
        DataPlane? dataPlane = null;
        if (settings.DataPlane)
        {
            var host = system.Settings.Config.GetString("akka.remote.dot-netty.tcp.hostname", "127.0.0.1");
            dataPlane = new DataPlane(host, settings.DataPort, Akka.Event.Logging.GetLogger(system, "data-plane"), settings.LocalHandOver);
            system.RegisterOnTermination(dataPlane.Dispose);
        }
        var replicator = system.ActorOf(Replicator.Props(settings, storage, nodeId), Replicator.Name);
        var coordinator = system.ActorOf(StoreCoordinator.Props(settings, storage, replicator, nodeId, dataPlane), StoreCoordinator.Name);
        return new Handles(coordinator, storage, nodeId, dataPlane);
    }
}
