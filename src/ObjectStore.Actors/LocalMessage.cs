using Akka.Actor;

namespace ObjectStore.Actors;

/// <summary>
/// Marks messages between the actors of one node. They never leave the process (some carry pooled
/// buffers, file handles or sockets), so they skip the serialization check tests turn on; what crosses
/// the network is declared in Protocol/*.proto.
/// </summary>
public interface ILocalMessage : INoSerializationVerificationNeeded;
