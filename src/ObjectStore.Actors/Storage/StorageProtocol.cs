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
    public sealed record ChunkStoreFailed(ContentHash Id, string Reason) : ILocalMessage;

    /// <summary>Make an object visible once all its chunks are durable. Replies ObjectCommitted or StoreError.</summary>
    public sealed record CommitObject(ObjectManifest Manifest, string UploadId) : ILocalMessage;
    public sealed record ObjectCommitted(ObjectManifest Manifest) : ILocalMessage;

    /// <summary>An upload ended (committed or not): its chunks are no longer protected from garbage collection.</summary>
    public sealed record ReleaseUpload(string UploadId) : ILocalMessage;

    public sealed record GetManifest(string Bucket, string Key) : ILocalMessage;
    public sealed record ManifestFound(ObjectManifest Manifest) : ILocalMessage;

    /// <summary>Read and verify one chunk. Replies ChunkRead or StoreError (NotFound / Corrupt).</summary>
    public sealed record ReadChunk(ContentHash Id) : ILocalMessage;
    public sealed record ChunkRead(ContentHash Id, byte[] Data) : ILocalMessage;
}
