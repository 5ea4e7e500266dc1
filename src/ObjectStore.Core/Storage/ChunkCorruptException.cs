using ObjectStore.Core.Hashing;

namespace ObjectStore.Core.Storage;

/// <summary>A stored chunk no longer hashes to its id. The file has been moved to quarantine.</summary>
public sealed class ChunkCorruptException(ContentHash id, ContentHash actual, string quarantinedTo)
    : IOException($"chunk {id} is corrupt on disk (content hashes to {actual.ToShortString()}); moved to {quarantinedTo}")
{
    public ContentHash ChunkId { get; } = id;
    public string QuarantinePath { get; } = quarantinedTo;
}

/// <summary>A chunk that an object lists is not on this node.</summary>
public sealed class ChunkMissingException(ContentHash id)
    : IOException($"chunk {id} is missing from this node")
{
    public ContentHash ChunkId { get; } = id;
}
