using ObjectStore.Core.Metadata;

namespace ObjectStore.Actors.Storage;

/// <summary>What a node's actors ask of its object index (object versions, listings, delete markers).</summary>
public static class IndexProtocol
{
    /// <summary>
    /// Make a version current unless a newer one is (last writer wins). Between a put's session and its
    /// distributor, answered with ObjectCommitted; at the object index, a replica's commit, answered with
    /// ReplicaProtocol.ReplicaCommitted or StoreError (and the put's pins here end with it).
    /// </summary>
    /// <param name="Missing">Chunks the put left on this node that are no longer on its disk (said in the reply, so that the put does not count them here).</param>
    public sealed record CommitObject(ObjectManifest Manifest, string UploadId, IReadOnlyList<Core.Hashing.ContentHash>? Missing = null) : ILocalMessage;
    /// <param name="Current">False when this node already had a newer version of the key.</param>
    /// <param name="Copies">Durable copies of the chunk or metadata with the fewest; <paramref name="Queued"/>: copies left to the repair queue.</param>
    public sealed record ObjectCommitted(ObjectManifest Manifest, bool Current = true, int Copies = 0, int Factor = 0, int Queued = 0) : ILocalMessage;

    /// <summary>Removes a version while it is still current (a put that missed its quorum). Replies ReplicaProtocol.ReplicaDropped.</summary>
    public sealed record DropVersion(string Bucket, string Key, string VersionId) : ILocalMessage;

    /// <summary>Deletes the key's older version and keeps the marker. Replies StoreProtocol.ObjectDeleted or StoreError (NotFound).</summary>
    public sealed record ApplyDelete(DeleteMarker Marker) : ILocalMessage;

    /// <summary>The key's current version or its delete marker (or neither). Replies VersionFound.</summary>
    public sealed record FindVersion(string Bucket, string Key) : ILocalMessage;
    public sealed record VersionFound(ObjectManifest? Manifest, DeleteMarker? Deleted) : ILocalMessage;
    /// <summary>FindVersion for several keys of a bucket. Replies VersionsFound, one per key in order.</summary>
    public sealed record FindVersions(string Bucket, IReadOnlyList<string> Keys) : ILocalMessage;
    public sealed record VersionsFound(IReadOnlyList<VersionFound> Versions) : ILocalMessage;

    /// <summary>Replies ManifestFound or StoreError (NotFound).</summary>
    public sealed record GetManifest(string Bucket, string Key) : ILocalMessage;
    public sealed record ManifestFound(ObjectManifest Manifest) : ILocalMessage;

    /// <summary>A page of a version's chunks (<see cref="ObjectIndex.ChunkPage"/>). Replies ChunkPageFound, or StoreError (NotFound) when that version is not current here.</summary>
    public sealed record GetChunkPage(string Bucket, string Key, string VersionId, int Start, int Count) : ILocalMessage;
    public sealed record ChunkPageFound(IReadOnlyList<ChunkRef> Chunks) : ILocalMessage;

    /// <summary>Replies ObjectCount.</summary>
    public sealed record CountObjects : ILocalMessage
    {
        public static readonly CountObjects Instance = new();
    }
    public sealed record ObjectCount(long Objects) : ILocalMessage;

    /// <summary>Every current version with its chunk ids and every delete marker (for anti-entropy). Replies HoldingsFound.</summary>
    public sealed record GetHoldings : ILocalMessage
    {
        public static readonly GetHoldings Instance = new();
    }
    public sealed record HoldingsFound(NodeHoldings Holdings) : ILocalMessage;

    /// <summary>A current version that lists the chunk, if any. Replies VersionsWithChunk.</summary>
    public sealed record FindVersionsWithChunk(Core.Hashing.ContentHash Chunk) : ILocalMessage;
    public sealed record VersionsWithChunk(Core.Hashing.ContentHash Chunk, IReadOnlyList<HeldVersion> Versions) : ILocalMessage;
}
