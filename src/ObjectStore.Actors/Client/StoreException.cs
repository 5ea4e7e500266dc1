using ObjectStore.Actors.Protocol;

namespace ObjectStore.Actors.Client;

/// <summary>A request that failed, with the node's (or the client's own) reason.</summary>
public sealed class StoreException(StoreErrorCode code, string message) : Exception(message)
{
    public StoreErrorCode Code { get; } = code;
}
