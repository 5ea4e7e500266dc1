using Akka.Actor;
using ObjectStore.Core.Hashing;

namespace ObjectStore.Actors.Protocol;

/// <summary>Marks what nodes say to each other to move chunk bodies and to ask who holds a chunk (chunks.proto).</summary>
public interface IChunkTransferMessage;

/// <summary>
/// Node to node, addressed to a node's chunk endpoint. A chunk moves as <see cref="ChunkPart"/>s of at
/// most one frame-size each (Akka.Remote's frame is 128000 bytes, and a large frame would hold up the
/// heartbeats on the same connection), with at most a window of them unacknowledged.
/// </summary>
public static class ChunkTransferProtocol
{
    // --- push (write path): OfferChunk → ChunkPresent (the receiver has it; nothing is sent)
    //     | SendChunk(receiver, route?) → (ChunkPart* ⇄ ChunkPartAck* | the body on the route's data connection)
    //       → ChunkDurable | TransferFailed
    /// <param name="UploadId">The put this chunk belongs to: the receiver keeps the chunk until that put commits or its lease ends.</param>
    public sealed record OfferChunk(long TransferId, string UploadId, ContentHash Id, int Length) : IChunkTransferMessage;
    public sealed record ChunkPresent(long TransferId) : IChunkTransferMessage;
    /// <param name="Route">When set, the body goes whole on a data connection to this route instead of as parts.</param>
    public sealed record SendChunk(long TransferId, IActorRef Receiver, DataRoute? Route = null) : IChunkTransferMessage;
    public sealed record ChunkPart(long TransferId, int Offset, ReadOnlyMemory<byte> Data) : IChunkTransferMessage;
    /// <summary>Cumulative: every byte before <paramref name="Received"/> has arrived.</summary>
    public sealed record ChunkPartAck(long TransferId, int Received) : IChunkTransferMessage;
    /// <summary>The receiver verified the chunk's hash and it is durable on its disk.</summary>
    public sealed record ChunkDurable(long TransferId) : IChunkTransferMessage;
    public sealed record TransferFailed(long TransferId, StoreErrorCode Code, string Reason) : IChunkTransferMessage;

    // --- push of small chunks, many at once: StoreChunks → ChunksStored (one outcome per chunk). Each
    //     chunk travels inside the message (at most a frame of them in all) and is checked against its id.
    /// <param name="UploadId">The put the chunk belongs to: kept for it until it commits or its lease ends.</param>
    public sealed record InlineChunk(ContentHash Id, string UploadId, ReadOnlyMemory<byte> Data);
    public sealed record StoreChunks(long TransferId, IReadOnlyList<InlineChunk> Chunks) : IChunkTransferMessage
    {
        /// <summary>A chunk this small goes in a batch rather than on a transfer of its own.</summary>
        public const int SmallChunkLimit = 64 * 1024;
        /// <summary>Chunks per message: at most this many, and at most one frame of data in all.</summary>
        public const int MaxChunks = 64;
    }
    /// <param name="Failure">Null: durable on the receiver.</param>
    /// <param name="Written">Durable and new there: the receiver did not hold it before (what a put reports as new bytes).</param>
    public sealed record ChunkOutcome(ContentHash Id, string? Failure, StoreErrorCode Code = StoreErrorCode.StorageFailure, bool Written = false);
    public sealed record ChunksStored(long TransferId, IReadOnlyList<ChunkOutcome> Outcomes) : IChunkTransferMessage;

    // --- fetch (read path): FetchChunk → ChunkPart* ⇄ ChunkPartAck* (to the receiver) | TransferFailed
    //     a body that does not match its id: CheckChunk → TransferFailed (Corrupt: the holder's copy, now quarantined)
    /// <param name="Route">When set, the body comes whole on a data connection to this route (the fetcher's node) instead of as parts.</param>
    /// <param name="FetcherChecks">The fetcher checks the body against the id, so the holder sends its copy without hashing it
    /// first (every byte was hashed twice, once on each side); a body that does not match is answered with CheckChunk.</param>
    public sealed record FetchChunk(long TransferId, ContentHash Id, IActorRef Receiver, DataRoute? Route = null, bool FetcherChecks = false)
        : IChunkTransferMessage;

    /// <summary>
    /// The body a holder sent unchecked did not match its id: the holder reads its copy again, checked (a corrupt
    /// copy goes to quarantine), and answers TransferFailed — Corrupt when its copy was, else why it was not.
    /// </summary>
    public sealed record CheckChunk(long TransferId, ContentHash Id, IActorRef Receiver) : IChunkTransferMessage;

    /// <summary>A node's data plane and the single-use token of one chunk body (<see cref="Transfer.ChunkBody"/>).</summary>
    public sealed record DataRoute(string Host, int Port, byte[] Token);

    // --- which of these chunks does the node hold (durably)? Replies ChunksHeld.
    public sealed record WhichChunks(IReadOnlyList<ContentHash> Ids) : IChunkTransferMessage;
    public sealed record ChunksHeld(string NodeId, IReadOnlyList<ContentHash> Ids) : IChunkTransferMessage;
}
