using System.Runtime.CompilerServices;
using Akka.Actor;

namespace ObjectStore.Actors.Transfer;

/// <summary>
/// A node's side of the node-to-node data connections: its own data plane, where other nodes deliver
/// chunk bodies with a token this node handed out, and its pool of connections to other nodes' data
/// planes, where it delivers bodies itself. Chunk bodies between nodes go there rather than as
/// Akka.Remote parts when <see cref="ReplicationSettings.DataConnections"/> is on and both ends have a
/// data plane; the offers, acknowledgements and errors stay on Akka.Remote.
/// </summary>
/// <remarks>
/// Kept per actor system, like <see cref="Replication.Repair.ForegroundActivity"/>, because the actors
/// that move chunk bodies (pushes, fetches for gets and repairs, their receivers) are created in
/// many places; passing the plane and pool through each of their props would touch them all.
/// </remarks>
public sealed class DataLinks
{
    private static readonly ConditionalWeakTable<ActorSystem, DataLinks> PerSystem = new();

    private DataLinks(DataPlane? plane, PeerConnections peers, DataLinkFaults? faults)
    {
        Plane = plane;
        Peers = peers;
        Faults = faults;
    }

    /// <summary>This node's data plane when bodies between nodes use it (else null: they go as parts).</summary>
    public DataPlane? Plane { get; }

    public PeerConnections Peers { get; }

    public DataLinkFaults? Faults { get; }

    /// <summary>The node's links; a system started without them (a unit test of one actor) has none.</summary>
    public static DataLinks Of(ActorSystem system) => PerSystem.GetValue(system, _ => new DataLinks(null, new PeerConnections(), null));

    internal static void Register(ActorSystem system, DataPlane? plane, DataLinkFaults? faults)
    {
        var links = new DataLinks(plane, new PeerConnections(), faults);
        PerSystem.AddOrUpdate(system, links);
        system.RegisterOnTermination(links.Peers.Dispose);
    }
}

/// <summary>
/// Fault injection for tests: which outgoing chunk bodies to cut off mid-way (the connection closed after half
/// the bytes), and which to damage on the way (one byte flipped in what is sent, the sender's copy unharmed).
/// </summary>
public sealed record DataLinkFaults(Func<bool> CutThisBody, Func<bool>? DamageThisBody = null);
