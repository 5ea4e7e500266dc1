using ObjectStore.Core.Hashing;
using ObjectStore.Core.Storage;

namespace ObjectStore.Core.Metadata;

/// <summary>One chunk of an object, in order.</summary>
public readonly record struct ChunkRef(ContentHash Id, int Length);

/// <summary>What the index knows of one version of an object.</summary>
/// <param name="Writer">The node id of the node that took the put; breaks ties between versions created in the same millisecond.</param>
/// <param name="File">The stored file's mode and modification time, when the put gave them.</param>
public sealed record ObjectManifest(
    string Bucket,
    string Key,
    string VersionId,
    long Size,
    ContentHash Sha256,
    DateTimeOffset Created,
    IReadOnlyList<ChunkRef> Chunks,
    string Writer = "",
    FileMetadata? File = null)
{
    /// <summary>A time-ordered, unique version id (UUIDv7 without dashes).</summary>
    public static string NewVersionId() => Guid.CreateVersion7().ToString("N");

    /// <summary>
    /// Last writer wins: of two versions of a key, the later (created, writer node id) is current —
    /// every node that sees both picks the same one, whatever order they arrive in. The version id
    /// settles the (practically impossible) rest.
    /// </summary>
    public bool IsNewerThan(ObjectManifest other) => VersionOrder.IsNewer(
        Created.ToUnixTimeMilliseconds(), Writer, VersionId, other.Created.ToUnixTimeMilliseconds(), other.Writer, other.VersionId);
}

/// <summary>
/// A deletion, versioned like a put: it wins over every version of the key older than itself, on every
/// node, whatever order the delete and a late replica of an older put arrive in (a node that was down
/// during the delete does not bring the object back).
/// </summary>
public sealed record DeleteMarker(string Bucket, string Key, string VersionId, DateTimeOffset Created, string Writer)
{
    public static DeleteMarker New(string bucket, string key, string writer) =>
        new(bucket, key, ObjectManifest.NewVersionId(), DateTimeOffset.UtcNow, writer);

    public bool IsNewerThan(ObjectManifest m) => VersionOrder.IsNewer(
        Created.ToUnixTimeMilliseconds(), Writer, VersionId, m.Created.ToUnixTimeMilliseconds(), m.Writer, m.VersionId);

    public bool IsNewerThan(DeleteMarker d) => VersionOrder.IsNewer(
        Created.ToUnixTimeMilliseconds(), Writer, VersionId, d.Created.ToUnixTimeMilliseconds(), d.Writer, d.VersionId);
}

/// <summary>The last-writer-wins order of object versions, shared by manifests and listing rows.</summary>
public static class VersionOrder
{
    public static bool IsNewer(long createdMs, string writer, string versionId, long otherCreatedMs, string otherWriter, string otherVersionId)
    {
        if (createdMs != otherCreatedMs) return createdMs > otherCreatedMs;
        var byWriter = string.CompareOrdinal(writer, otherWriter);
        return byWriter != 0 ? byWriter > 0 : string.CompareOrdinal(versionId, otherVersionId) > 0;
    }
}

/// <summary>A row of a listing: an object without its chunk list.</summary>
public sealed record ObjectSummary(string Bucket, string Key, string VersionId, long Size, ContentHash Sha256, DateTimeOffset Created, int ChunkCount, string Writer = "",
    FileMetadata? File = null);

/// <summary>A bucket and what it holds.</summary>
public sealed record BucketSummary(string Bucket, long Objects, long Bytes);
