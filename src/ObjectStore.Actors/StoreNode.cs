using Akka.Actor;
using Akka.Pattern;
using ObjectStore.Actors.Coordination;
using ObjectStore.Actors.Storage;
using ObjectStore.Actors.Transfer;
using ObjectStore.Core.Storage;

namespace ObjectStore.Actors;

/// <summary>Starts one node's actors in an actor system: the supervised storage actor and the coordinator.</summary>
public static class StoreNode
{
    public sealed record Handles(IActorRef Coordinator, IActorRef Storage, string NodeId);

    public static Handles Start(ActorSystem system, StoreSettings settings, IStorageFaults? faults = null)
    {
        settings.Validate();
        var nodeId = NodeIdentity.LoadOrCreate(settings.DataDirectory);
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
            dataPlane = new DataPlane(host, settings.DataPort, Akka.Event.Logging.GetLogger(system, "data-plane"));
            system.RegisterOnTermination(dataPlane.Dispose);
        }
        var coordinator = system.ActorOf(StoreCoordinator.Props(settings, storage, dataPlane), StoreCoordinator.Name);
        return new Handles(coordinator, storage, nodeId);
    }
}
