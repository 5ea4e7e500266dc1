using Akka.Actor;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;

namespace ObjectStore.Actors.Protocol;

/// <summary>Marks the messages replicators exchange between nodes; all have a binary serializer (ReplicationMessageSerializer).</summary>
public interface IReplicationMessage;

/// <summary>
/// Node to node. Chunk data moves as <see cref="ChunkPart"/>s of at most one frame-size each (Akka.Remote's
/// frame is 128000 bytes, and a large frame would hold up the heartbeats on the same connection), with at
/// most a window of them unacknowledged.
/// </summary>
public static class ReplicationProtocol
{
    // --- push (write path): OfferChunk → ChunkPresent (the receiver has it; nothing is sent)
    //     | SendChunk(receiver) → ChunkPart* ⇄ ChunkPartAck* → ChunkDurable | TransferFailed
    /// <param name="UploadId">The put this chunk belongs to: the receiver keeps the chunk until that put commits or is released.</param>
    public sealed record OfferChunk(long TransferId, string UploadId, ContentHash Id, int Length) : IReplicationMessage;
    public sealed record ChunkPresent(long TransferId) : IReplicationMessage;
    public sealed record SendChunk(long TransferId, IActorRef Receiver) : IReplicationMessage;
    public sealed record ChunkPart(long TransferId, int Offset, ReadOnlyMemory<byte> Data) : IReplicationMessage;
    /// <summary>Cumulative: every byte before <paramref name="Received"/> has arrived.</summary>
    public sealed record ChunkPartAck(long TransferId, int Received) : IReplicationMessage;
    /// <summary>The receiver verified the chunk's hash and it is durable on its disk.</summary>
    public sealed record ChunkDurable(long TransferId) : IReplicationMessage;
    public sealed record TransferFailed(long TransferId, string Reason) : IReplicationMessage;

    // --- fetch (read path): FetchChunk → ChunkPart* ⇄ ChunkPartAck* (to the receiver) | TransferFailed
    public sealed record FetchChunk(long TransferId, ContentHash Id, IActorRef Receiver) : IReplicationMessage;

    // --- metadata
    /// <summary>
    /// Makes the manifest current on the receiving node unless it has a newer version. Replies ReplicaCommitted
    /// or StoreError. A manifest with more chunks than fit one message (replication.manifest-page) goes
    /// ahead in <see cref="StageChunks"/> pages, and then this message carries it without its chunk list
    /// (<paramref name="ChunksStaged"/>).
    /// </summary>
    public sealed record CommitReplica(ObjectManifest Manifest, string UploadId, bool ChunksStaged = false) : IReplicationMessage;
    /// <summary>One page of a large manifest's chunk list, in order from <paramref name="Start"/>. Replies ChunksStaged or StoreError.</summary>
    public sealed record StageChunks(string UploadId, string VersionId, int Start, IReadOnlyList<ChunkRef> Chunks) : IReplicationMessage;
    public sealed record ChunksStaged(string VersionId, int Next) : IReplicationMessage;
    public sealed record ReplicaCommitted(string VersionId, bool Current) : IReplicationMessage;
    /// <summary>Undo of a put that missed its quorum: removes that version where it is still current. Replies ReplicaDropped.</summary>
    public sealed record DropReplica(string Bucket, string Key, string VersionId) : IReplicationMessage;
    public sealed record ReplicaDropped(string VersionId) : IReplicationMessage;
    /// <summary>The put ended (committed or not): chunks it sent that nothing references may be collected. No reply.</summary>
    public sealed record ReleaseReplicaUpload(string UploadId) : IReplicationMessage;
    public sealed record FindManifest(string Bucket, string Key) : IReplicationMessage;
    /// <summary>
    /// <paramref name="Manifest"/> is null when the node has no version of the key. A large manifest comes
    /// with its first page of chunks only (<paramref name="TotalChunks"/> says how many there are); the
    /// rest is asked for with <see cref="FindManifestChunks"/>.
    /// </summary>
    /// <param name="Deleted">The key's delete marker on that node, when it was deleted there (Manifest is then null).</param>
    public sealed record ManifestReply(string NodeId, ObjectManifest? Manifest, int TotalChunks, DeleteMarker? Deleted = null) : IReplicationMessage
    {
        public bool Partial => Manifest is not null && TotalChunks > Manifest.Chunks.Count;
    }
    /// <summary>Replies ManifestChunks, or StoreError (NotFound) when the node no longer has that version.</summary>
    public sealed record FindManifestChunks(string Bucket, string Key, string VersionId, int Start) : IReplicationMessage;
    public sealed record ManifestChunks(string VersionId, int Start, IReadOnlyList<ChunkRef> Chunks) : IReplicationMessage;
    public sealed record WhichChunks(IReadOnlyList<ContentHash> Ids) : IReplicationMessage;
    public sealed record ChunksHeld(string NodeId, IReadOnlyList<ContentHash> Ids) : IReplicationMessage;
    /// <summary>This node's own rows (a listing merges them from every node). Replies LocalListing.</summary>
    public sealed record ListLocalObjects(string Bucket, string Prefix, string? StartAfter, int Limit) : IReplicationMessage;
    /// <summary>A page of one node's objects, with the delete markers in the same key range (so a stale copy elsewhere is hidden).</summary>
    public sealed record LocalListing(string Bucket, IReadOnlyList<ObjectInfo> Objects, IReadOnlyList<DeleteMarker> Deleted, bool Truncated) : IReplicationMessage;
    /// <summary>Replies StoreProtocol.BucketListing.</summary>
    public sealed record ListLocalBuckets : IReplicationMessage
    {
        public static readonly ListLocalBuckets Instance = new();
    }
    /// <summary>
    /// Deletes the key on this node if its version is older than the marker, and keeps the marker.
    /// Replies StoreProtocol.ObjectDeleted, or StoreError (NotFound) when there was nothing older to delete.
    /// </summary>
    public sealed record DeleteLocal(DeleteMarker Marker) : IReplicationMessage;
}
