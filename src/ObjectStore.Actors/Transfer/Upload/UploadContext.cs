using Akka.Actor;

namespace ObjectStore.Actors.Transfer.Upload;

/// <summary>What a put's session needs of its node: settings, id, the chunk keeper and outgoing pushes, and the data plane.</summary>
public sealed record UploadContext(StoreSettings Settings, string NodeId, IActorRef Keeper, IActorRef Pushes, DataPlane? DataPlane);
