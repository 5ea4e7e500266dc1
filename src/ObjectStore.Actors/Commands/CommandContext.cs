using Akka.Actor;
using Akka.Configuration;

namespace ObjectStore.Actors.Commands;

/// <summary>What a palette may use: the node's actor system, settings, handles, log and the addresses it serves on.</summary>
public sealed record CommandContext(ActorSystem System, Config Config, StoreSettings Settings, StoreNode.Handles Node, RecentLog Log,
    string CommandAddress, DateTimeOffset Started)
{
    public string RemotingAddress => ((ExtendedActorSystem)System).Provider.DefaultAddress.ToString();

    /// <summary>"node-ab12 (akka.tcp://objectstore@127.0.0.1:4053)": who answered, on every reply.</summary>
    public string NodeName => $"{Node.NodeId} ({RemotingAddress})";
}
