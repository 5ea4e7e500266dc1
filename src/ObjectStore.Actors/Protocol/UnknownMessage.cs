using Akka.Actor;

namespace ObjectStore.Actors.Protocol;

/// <summary>
/// A message from the network whose kind this node does not know (a newer node sent it). The serializer
/// delivers this in its place instead of dropping it, so the receiver can answer with a typed refusal
/// (<see cref="StoreErrorCode.Unsupported"/>) and the sender learns why rather than waiting for a timeout.
/// </summary>
public sealed record UnknownMessage(string Protocol, string Manifest) : INoSerializationVerificationNeeded
{
    public StoreProtocol.StoreError Refusal(string who) =>
        new(StoreErrorCode.Unsupported, $"{who} does not understand '{Manifest}' messages of the {Protocol} protocol (it runs an older version)");
}

/// <summary>
/// An actor that takes messages from the network: a message of a kind this node does not know is answered
/// with a refusal instead of being dropped as unhandled.
/// </summary>
public abstract class WireActor : ReceiveActor
{
    protected override void Unhandled(object message)
    {
        if (message is UnknownMessage unknown)
        {
            Sender.Tell(unknown.Refusal($"{Self.Path.Name} on {((ExtendedActorSystem)Context.System).Provider.DefaultAddress}"));
            return;
        }
        base.Unhandled(message);
    }
}
