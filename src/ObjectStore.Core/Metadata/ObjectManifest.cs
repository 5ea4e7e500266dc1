using ObjectStore.Core.Hashing;

namespace ObjectStore.Core.Metadata;

/// <summary>One chunk of an object, in order.</summary>
public readonly record struct ChunkRef(ContentHash Id, int Length);

/// <summary>What the index knows of one version of an object.</summary>
public sealed record ObjectManifest(
    string Bucket,
    string Key,
    string VersionId,
    long Size,
    ContentHash Sha256,
    DateTimeOffset Created,
    IReadOnlyList<ChunkRef> Chunks)
{
    /// <summary>A time-ordered, unique version id (UUIDv7 without dashes).</summary>
    public static string NewVersionId() => Guid.CreateVersion7().ToString("N");
}

/// <summary>A row of a listing: an object without its chunk list.</summary>
public sealed record ObjectSummary(string Bucket, string Key, string VersionId, long Size, ContentHash Sha256, DateTimeOffset Created, int ChunkCount);

/// <summary>A bucket and what it holds.</summary>
public sealed record BucketSummary(string Bucket, long Objects, long Bytes);
