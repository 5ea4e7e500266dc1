using Akka.Actor;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Transfer;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.ChunkStorageProtocol;

namespace ObjectStore.Actors.Replication;

/// <summary>
/// Serves a fetch that came with a data route (a get or a repair on another node) from the chunk reader's thread
/// that read the chunk: the send onto a pooled data connection starts there, and its end gives the connection back
/// to the pool and the buffer back to its pool. <see cref="ChunkSendActor"/> used to do this with an actor per chunk,
/// a remote watch of the fetcher and three hops between threads; a holder serving a gateway's get of 1 GiB made ~65
/// futex calls per chunk that way, CPU the gateway's own work lacked on a small machine (docs/BENCHMARKS.md, twelfth
/// step: a holder's CPU a third less, the get 0.84×).
/// </summary>
/// <remarks>
/// The send is asynchronous, not a blocking write on the reader's thread (which measured the same): a fetcher that
/// stops reading must not hold a thread that local reads wait for. It gets TransferFailed when the connection breaks
/// or the body is not taken within the transfer timeout; the fetcher is not watched: should it be gone, its node's data
/// plane refuses the token. A data port that cannot be reached at all is handed back to the endpoint
/// (<see cref="SendAsParts"/>), which sends the chunk over Akka.Remote.
/// </remarks>
internal static class FetchOnReadingThread
{
    /// <summary>The fetcher's data port did not answer: send it the chunk as parts.</summary>
    public sealed record SendAsParts(FetchChunk Fetch) : ILocalMessage;

    /// <summary>What the chunk reader does with the read of <paramref name="fetch"/>'s chunk (<see cref="ReadChunkThen"/>).</summary>
    public static ReadChunkThen Read(FetchChunk fetch, DataLinks links, TimeSpan timeout, IActorRef endpoint) =>
        new(fetch.Id, Verify: !fetch.FetcherChecks, outcome => Send(fetch, links, timeout, endpoint, outcome));

    private static void Send(FetchChunk fetch, DataLinks links, TimeSpan timeout, IActorRef endpoint, object outcome)
    {
        if (outcome is StoreError error)
        {
            fetch.Receiver.Tell(new TransferFailed(fetch.TransferId, error.Code, error.Message));
            return;
        }
        var read = (ChunkRead)outcome;
        var route = fetch.Route!;
        var deadline = new CancellationTokenSource(timeout);
        ChunkBody.SendAsync(links, route, read.Data, deadline.Token).ContinueWith(t =>
        {
            deadline.Dispose();
            read.Lease?.Dispose();
            // The fetcher reads exactly the chunk's length off the connection: the next body may follow at once.
            if (t.IsCompletedSuccessfully) links.Peers.Return(route.Host, route.Port, t.Result);
            else if (t.Exception?.GetBaseException() is DataLinkUnreachableException) endpoint.Tell(new SendAsParts(fetch));
            else fetch.Receiver.Tell(new TransferFailed(fetch.TransferId, StoreErrorCode.Unavailable,
                $"the data connection broke: {(t.IsCanceled ? $"the body was not taken within {timeout.TotalSeconds:0.#}s" : t.Exception!.GetBaseException().Message)}"));
        }, TaskContinuationOptions.ExecuteSynchronously);
    }
}
