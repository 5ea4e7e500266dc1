using Akka.Actor;
using ObjectStore.Actors.Client;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Storage;

/// <summary>
/// Asks the object index for one kind of answer. The index may answer a <see cref="StoreError"/> instead — its
/// supervisor does while the index restarts after a storage failure (StoreNode) — which becomes a
/// <see cref="StoreException"/> with the error's own words, not a cast failure.
/// </summary>
internal static class IndexAsk
{
    public static async Task<T> AskIndex<T>(this IActorRef index, object request, TimeSpan timeout, CancellationToken cancel = default) =>
        await index.Ask<object>(request, timeout, cancel) switch
        {
            T answer => answer,
            StoreError e => throw new StoreException(e.Code, e.Message),
            var other => throw new InvalidOperationException($"the object index answered {other.GetType().Name} to {request.GetType().Name}"),
        };
}
