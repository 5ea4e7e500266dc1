using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Protocol;

/// <summary>Marks what nodes say to each other about object metadata (replicas.proto).</summary>
public interface IReplicaMessage;

/// <summary>Node to node, addressed to a node's replica endpoint: object versions, listings and deletes.</summary>
public static class ReplicaProtocol
{
    /// <summary>
    /// Makes the manifest current on the receiving node unless it has a newer version. Replies ReplicaCommitted
    /// or StoreError. A manifest with more chunks than fit one message (replication.manifest-page) goes
    /// ahead in <see cref="StageChunks"/> pages, and then this message carries it without its chunk list
    /// (<paramref name="ChunksStaged"/>).
    /// </summary>
    public sealed record CommitReplica(ObjectManifest Manifest, string UploadId, bool ChunksStaged = false) : IReplicaMessage;
    /// <summary>
    /// Several puts' commits in one message (small objects put together), each whole-chunk-list, committed
    /// in one transaction where they can be. Replies ReplicasCommitted: one outcome per commit, in order.
    /// </summary>
    public sealed record CommitReplicas(IReadOnlyList<CommitReplica> Commits) : IReplicaMessage
    {
        public const int MaxCommits = 64;
    }
    /// <param name="Outcomes">Each a ReplicaCommitted or a StoreError.</param>
    public sealed record ReplicasCommitted(IReadOnlyList<object> Outcomes) : IReplicaMessage;
    /// <summary>One page of a large manifest's chunk list, in order from <paramref name="Start"/>. Replies ChunksStaged or StoreError.</summary>
    public sealed record StageChunks(string UploadId, string VersionId, int Start, IReadOnlyList<ChunkRef> Chunks) : IReplicaMessage;
    public sealed record ChunksStaged(string VersionId, int Next) : IReplicaMessage;
    /// <param name="Missing">Chunks the put stored or offered here that are not on this node's disk: the metadata is committed, those copies are not here.</param>
    public sealed record ReplicaCommitted(string VersionId, bool Current, IReadOnlyList<ContentHash>? Missing = null) : IReplicaMessage
    {
        public IReadOnlyList<ContentHash> Missing { get; init; } = Missing ?? [];
    }
    /// <summary>Undo of a put that missed its quorum: removes that version where it is still current. Replies ReplicaDropped.</summary>
    public sealed record DropReplica(string Bucket, string Key, string VersionId) : IReplicaMessage;
    public sealed record ReplicaDropped(string VersionId) : IReplicaMessage;
    /// <summary>The put ended (committed or not): chunks it sent that nothing references may be collected. No reply.</summary>
    public sealed record ReleaseReplicaUpload(string UploadId) : IReplicaMessage;
    public sealed record FindManifest(string Bucket, string Key) : IReplicaMessage;
    /// <summary>Several keys' <see cref="FindManifest"/> in one message (a batch of small gets). Replies ManifestReplies, one per key in order.</summary>
    public sealed record FindManifests(string Bucket, IReadOnlyList<string> Keys) : IReplicaMessage
    {
        public const int MaxKeys = 64;
        /// <summary>Chunks per manifest in the reply: more make it a partial manifest (<see cref="ManifestReply.Partial"/>).</summary>
        public const int ChunksPerManifest = 8;
    }
    public sealed record ManifestReplies(IReadOnlyList<ManifestReply> Replies) : IReplicaMessage;
    /// <summary>
    /// <paramref name="Manifest"/> is null when the node has no version of the key. A large manifest comes
    /// with its first page of chunks only (<paramref name="TotalChunks"/> says how many there are); the
    /// rest is asked for with <see cref="FindManifestChunks"/>.
    /// </summary>
    /// <param name="Deleted">The key's delete marker on that node, when it was deleted there (Manifest is then null).</param>
    public sealed record ManifestReply(string NodeId, ObjectManifest? Manifest, int TotalChunks, DeleteMarker? Deleted = null) : IReplicaMessage
    {
        public bool Partial => Manifest is not null && TotalChunks > Manifest.Chunks.Count;
    }
    /// <summary>Replies ManifestChunks, or StoreError (NotFound) when the node no longer has that version.</summary>
    public sealed record FindManifestChunks(string Bucket, string Key, string VersionId, int Start) : IReplicaMessage;
    public sealed record ManifestChunks(string VersionId, int Start, IReadOnlyList<ChunkRef> Chunks) : IReplicaMessage;
    /// <summary>This node's own rows (a listing merges them from every node). Replies LocalListing.</summary>
    public sealed record ListLocalObjects(string Bucket, string Prefix, string? StartAfter, int Limit) : IReplicaMessage;
    /// <summary>A page of one node's objects, with the delete markers in the same key range (so a stale copy elsewhere is hidden).</summary>
    public sealed record LocalListing(string Bucket, IReadOnlyList<ObjectInfo> Objects, IReadOnlyList<DeleteMarker> Deleted, bool Truncated) : IReplicaMessage;
    /// <summary>Replies StoreProtocol.BucketListing.</summary>
    public sealed record ListLocalBuckets : IReplicaMessage
    {
        public static readonly ListLocalBuckets Instance = new();
    }
    /// <summary>
    /// Deletes the key on this node if its version is older than the marker, and keeps the marker.
    /// Replies StoreProtocol.ObjectDeleted, or StoreError (NotFound) when there was nothing older to delete.
    /// </summary>
    public sealed record DeleteLocal(DeleteMarker Marker) : IReplicaMessage;

    /// <summary>
    /// Anti-entropy, to a node's sync endpoint: digests of ranges of what the asker (<paramref name="NodeId"/>)
    /// should have in common with the receiver. Replies SyncAnswers (the ranges that differ there) or StoreError.
    /// </summary>
    public sealed record SyncDigests(string Session, string NodeId, IReadOnlyList<Core.Sync.RangeDigest> Ranges) : IReplicaMessage
    {
        /// <summary>Ranges per message: each answer is at most 16 digests or a leaf's items (about 0.5 KB), so a reply fits a frame.</summary>
        public const int MaxRanges = 128;
    }
    /// <summary>A node is handing its copies over before it leaves (or stopped doing so). No reply.</summary>
    public sealed record NodeDraining(string NodeId, bool Draining, int TtlSeconds) : IReplicaMessage;
    public sealed record SyncAnswers(string Session, IReadOnlyList<Core.Sync.RangeAnswer> Answers) : IReplicaMessage;
}
