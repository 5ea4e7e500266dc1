using Akka.Actor;
using ObjectStore.Core.Chunking;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;

namespace ObjectStore.Actors.Storage;

/// <summary>
/// What the node's own actors ask of its storage actor. These never leave the process (they carry pooled
/// buffers), so they skip serialization checks; what crosses the network is in StoreProtocol.
/// </summary>
public static class StorageProtocol
{
    public interface ILocalMessage : INoSerializationVerificationNeeded;

    /// <summary>Store a chunk whose id the sender computed. The storage actor disposes <paramref name="Data"/>.</summary>
    public sealed record StoreChunk(ContentHash Id, ChunkBuffer Data, string UploadId) : ILocalMessage;
    /// <summary>The chunk's bytes are on disk (not yet durable) and its buffer is free; always before its ChunkStored.</summary>
    public sealed record ChunkBufferReleased(ContentHash Id) : ILocalMessage;
    /// <summary>The chunk is durable and visible.</summary>
    public sealed record ChunkStored(ContentHash Id, int Length, bool Written) : ILocalMessage;
    public sealed record ChunkStoreFailed(ContentHash Id, string Reason, Protocol.StoreErrorCode Code = Protocol.StoreErrorCode.StorageFailure) : ILocalMessage;

    /// <summary>
    /// Make an object version current on this node (unless it has a newer one: last writer wins) once its
    /// chunks are durable where the put placed them. Replies ObjectCommitted or StoreError.
    /// </summary>
    public sealed record CommitObject(ObjectManifest Manifest, string UploadId) : ILocalMessage;
    /// <param name="Current">False when this node already had a newer version of the key.</param>
    public sealed record ObjectCommitted(ObjectManifest Manifest, bool Current = true) : ILocalMessage;

    /// <summary>Removes a version while it is still current (a put that missed its quorum). Replies ReplicaProtocol.ReplicaDropped.</summary>
    public sealed record DropVersion(string Bucket, string Key, string VersionId) : ILocalMessage;

    /// <summary>
    /// A peer offers a chunk for an upload: if it is durable here, it is kept for that upload (as if
    /// stored by it) and the reply says so, and the peer need not send it. Replies ChunkClaim.
    /// </summary>
    public sealed record ClaimChunk(ContentHash Id, string UploadId) : ILocalMessage;
    public sealed record ChunkClaim(ContentHash Id, bool Present) : ILocalMessage;

    /// <summary>An upload ended (committed or not): its chunks are no longer protected from garbage collection.</summary>
    public sealed record ReleaseUpload(string UploadId) : ILocalMessage;

    public sealed record GetManifest(string Bucket, string Key) : ILocalMessage;
    /// <summary>The key's current version or its delete marker (or neither). Replies VersionFound.</summary>
    public sealed record FindVersion(string Bucket, string Key) : ILocalMessage;
    public sealed record VersionFound(ObjectManifest? Manifest, DeleteMarker? Deleted) : ILocalMessage;
    public sealed record ManifestFound(ObjectManifest Manifest) : ILocalMessage;

    /// <summary>Read and verify one chunk. Replies ChunkRead or StoreError (NotFound / Corrupt).</summary>
    public sealed record ReadChunk(ContentHash Id) : ILocalMessage;
    public sealed record ChunkRead(ContentHash Id, byte[] Data) : ILocalMessage;
}
