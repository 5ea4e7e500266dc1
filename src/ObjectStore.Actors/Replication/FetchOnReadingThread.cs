using System.Net.Sockets;
using Akka.Actor;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Transfer;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.ChunkStorageProtocol;

namespace ObjectStore.Actors.Replication;

/// <summary>
/// Serves a fetch that came with a data route (a get or a repair on another node) on the chunk reader's thread
/// that read the chunk: the body goes onto a pooled data connection from there, and the connection back to the
/// pool once written, as <see cref="ChunkSendActor"/> would do with an actor, a thread-pool send and two hops
/// back per chunk. A holder serving a gateway's get of 1 GiB made ~65 futex calls per chunk that way
/// (docs/BENCHMARKS.md, eleventh step), CPU the gateway's own work then lacked on a small machine.
/// </summary>
/// <remarks>
/// The fetcher is not watched: should it be gone, its node's data plane refuses the token and the write fails, and
/// a node that stops reading fails it after the transfer timeout. A data port that cannot be reached at all is
/// handed back to the endpoint (<see cref="SendAsParts"/>), which sends the chunk over Akka.Remote.
/// </remarks>
internal static class FetchOnReadingThread
{
    /// <summary>The fetcher's data port did not answer: send it the chunk as parts.</summary>
    public sealed record SendAsParts(FetchChunk Fetch) : ILocalMessage;

    /// <summary>What the chunk reader does with the read of <paramref name="fetch"/>'s chunk (<see cref="ReadChunkThen"/>).</summary>
    public static ReadChunkThen Read(FetchChunk fetch, DataLinks links, TimeSpan timeout) =>
        new(fetch.Id, Verify: !fetch.FetcherChecks, outcome => Send(fetch, links, timeout, outcome));

    private static object? Send(FetchChunk fetch, DataLinks links, TimeSpan timeout, object outcome)
    {
        if (outcome is not ChunkRead read)
        {
            var error = outcome as StoreError ?? new StoreError(StoreErrorCode.StorageFailure, $"cannot read chunk {fetch.Id.ToShortString()}");
            fetch.Receiver.Tell(new TransferFailed(fetch.TransferId, error.Code, error.Message));
            return null;
        }
        using var lease = read.Lease;
        try
        {
            // The fetcher reads exactly the chunk's length off the connection: the next body may follow at once.
            links.Peers.Return(fetch.Route!.Host, fetch.Route.Port, ChunkBody.Send(links, fetch.Route, read.Data, timeout));
            return null;
        }
        catch (DataLinkUnreachableException)
        {
            return new SendAsParts(fetch);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            fetch.Receiver.Tell(new TransferFailed(fetch.TransferId, StoreErrorCode.Unavailable, $"the data connection broke: {e.Message}"));
            return null;
        }
    }
}
