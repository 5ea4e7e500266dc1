using Akka.Actor;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Chunking;
using ObjectStore.Core.Hashing;

namespace ObjectStore.Actors.Storage;

/// <summary>What a node's actors ask of its chunk files: the keeper (writes, claims, pins, collection) and the reader.</summary>
public static class ChunkStorageProtocol
{
    /// <summary>
    /// Store a chunk whose id the sender computed, kept for <paramref name="UploadId"/> until that put ends.
    /// The storage disposes its reference to <paramref name="Data"/>. Replies ChunkStored or ChunkStoreFailed.
    /// </summary>
    public sealed record StoreChunk(ContentHash Id, ChunkBuffer Data, string UploadId) : ILocalMessage;
    /// <summary>The chunk is durable and visible. <paramref name="Written"/>: it was not here before.</summary>
    public sealed record ChunkStored(ContentHash Id, int Length, bool Written) : ILocalMessage;
    public sealed record ChunkStoreFailed(ContentHash Id, string Reason, StoreErrorCode Code = StoreErrorCode.StorageFailure) : ILocalMessage;

    /// <summary>
    /// A peer offers a chunk for a put: it is kept for that put from now on, and the reply says whether it
    /// is durable here already (then the peer need not send it). Replies ChunkClaim.
    /// </summary>
    public sealed record ClaimChunk(ContentHash Id, string UploadId) : ILocalMessage;
    public sealed record ChunkClaim(ContentHash Id, bool Present) : ILocalMessage;

    /// <summary>News of a put (a page of its chunk list arrived): its lease starts again. No reply.</summary>
    public sealed record ExtendUpload(string UploadId) : ILocalMessage;
    /// <summary>A put ended (committed or not): its chunks are no longer kept for it. No reply.</summary>
    public sealed record ReleaseUpload(string UploadId) : ILocalMessage;
    /// <summary>
    /// Chunks that may no longer be needed (an object version that listed them is gone): deleted unless
    /// referenced or pinned. Then <paramref name="Reply"/>, if any, goes to <paramref name="ReplyTo"/>, so
    /// that a delete is answered once its space is given back.
    /// </summary>
    /// <summary>
    /// Chunk files this node holds but does not own, whose owners all have them: deleted even though a version
    /// here lists them (a get here fetches them from the owners), unless a put in progress pins them. No reply.
    /// </summary>
    public sealed record ShedChunks(IReadOnlyCollection<ContentHash> Ids) : ILocalMessage;
    public sealed record CollectChunks(IReadOnlyCollection<ContentHash> Ids, IActorRef? ReplyTo = null, object? Reply = null) : ILocalMessage;
    /// <summary>
    /// A put's commit on this node: it goes on to <paramref name="Index"/>, which answers the sender, with the
    /// chunks the put stored or claimed here that are not on disk named in the answer (ReplicaCommitted.Missing).
    /// </summary>
    public sealed record CommitNotingMissing(IndexProtocol.CommitObject Commit, IActorRef Index) : ILocalMessage;

    /// <summary>Read and verify one chunk. Replies ChunkRead or StoreError (NotFound / Corrupt / StorageFailure).</summary>
    /// <param name="Verify">False: the bytes come unchecked (a holder serving a fetcher that checks them itself, <see cref="Protocol.ChunkTransferProtocol.FetchChunk.FetcherChecks"/>).</param>
    /// <param name="Pooled">True: the bytes come in a pooled buffer (read with O_DIRECT where it can be) that the asker must let go of (<see cref="ChunkRead.Lease"/>).</param>
    public sealed record ReadChunk(ContentHash Id, bool Verify = true, bool Pooled = false) : ILocalMessage;

    /// <summary>
    /// A pooled read (<see cref="ReadChunk"/> with Pooled) whose outcome — a <see cref="ChunkRead"/> whose lease
    /// <paramref name="Then"/> must let go of, or a StoreError — goes to <paramref name="Then"/> on the thread that
    /// read it (a read that throws is a StoreError too), not to the sender, which hears only should Then throw. For work that only hands the bytes on (a holder
    /// sending a fetched chunk onto a data connection), which would otherwise hop to an actor and on to another thread.
    /// </summary>
    public sealed record ReadChunkThen(ContentHash Id, bool Verify, Action<object> Then) : ILocalMessage;

    /// <param name="Lease">Set for a pooled read: disposing it gives the memory behind <paramref name="Data"/> back, after which Data must not be read.</param>
    public sealed record ChunkRead(ContentHash Id, ReadOnlyMemory<byte> Data, IDisposable? Lease = null) : ILocalMessage
    {
        /// <summary>The bytes, no longer tied to a pool: copied out of a leased buffer (which is let go of), or as they are.</summary>
        public ReadOnlyMemory<byte> Detach()
        {
            if (Lease is null) return Data;
            var copy = Data.ToArray();
            Lease.Dispose();
            return copy;
        }
    }
}
