using System.Runtime.Serialization;
using Google.Protobuf;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Storage;
using ObjectStore.Core.Metadata;
using W = ObjectStore.Actors.Protocol.Wire;

namespace ObjectStore.Actors.Serialization;

/// <summary>
/// Conversions between the domain's types and their wire form, shared by the protocol serializers.
/// Reading checks what protobuf cannot (a hash is 32 bytes, a chunk list adds up to its object's size),
/// so a forged message fails as a SerializationException before any actor sees it.
/// </summary>
internal static class WireMapping
{
    public static ByteString Bytes(ContentHash id)
    {
        var bytes = new byte[ContentHash.Size];
        id.WriteTo(bytes);
        return UnsafeByteOperations.UnsafeWrap(bytes);
    }

    public static ContentHash Hash(ByteString bytes, string what) =>
        bytes.Length == ContentHash.Size ? ContentHash.FromBytes(bytes.Span) : throw new SerializationException($"{what} has {bytes.Length} bytes, not {ContentHash.Size}");

    /// <summary>Wraps bytes the caller owns for the duration of the encode, without copying them.</summary>
    public static ByteString Wrap(ReadOnlyMemory<byte> data) => UnsafeByteOperations.UnsafeWrap(data);

    public static ByteString Hashes(IReadOnlyList<ContentHash> ids) => Hashes(ids.Count, i => ids[i]);

    private static ByteString Hashes(int count, Func<int, ContentHash> id)
    {
        var bytes = new byte[count * ContentHash.Size];
        for (var i = 0; i < count; i++) id(i).WriteTo(bytes.AsSpan(i * ContentHash.Size));
        return UnsafeByteOperations.UnsafeWrap(bytes);
    }

    public static List<ContentHash> Hashes(ByteString bytes)
    {
        if (bytes.Length % ContentHash.Size != 0) throw new SerializationException($"a list of chunk ids of {bytes.Length} bytes");
        var span = bytes.Span;
        var ids = new List<ContentHash>(span.Length / ContentHash.Size);
        for (var at = 0; at < span.Length; at += ContentHash.Size) ids.Add(ContentHash.FromBytes(span.Slice(at, ContentHash.Size)));
        return ids;
    }

    public static W.ChunkList Chunks(IReadOnlyList<ChunkRef> chunks)
    {
        var list = new W.ChunkList { Ids = Hashes(chunks.Count, i => chunks[i].Id) };
        foreach (var c in chunks) list.Lengths.Add((uint)c.Length);
        return list;
    }

    public static List<ChunkRef> Chunks(W.ChunkList? list)
    {
        if (list is null) return [];
        var ids = Hashes(list.Ids);
        if (ids.Count != list.Lengths.Count) throw new SerializationException($"a chunk list of {ids.Count} ids and {list.Lengths.Count} lengths");
        var chunks = new List<ChunkRef>(ids.Count);
        for (var i = 0; i < ids.Count; i++)
            chunks.Add(new ChunkRef(ids[i], list.Lengths[i] <= int.MaxValue ? (int)list.Lengths[i] : throw new SerializationException($"chunk of {list.Lengths[i]} bytes")));
        return chunks;
    }

    public static W.ObjectInfo Info(ObjectInfo o) => new()
    {
        Bucket = o.Bucket, Key = o.Key, VersionId = o.VersionId, Size = o.Size, Sha256 = Bytes(o.Sha256),
        CreatedUnixMs = o.CreatedUnixMs, ChunkCount = o.ChunkCount, Writer = o.Writer, File = File(o.File),
    };

    public static ObjectInfo Info(W.ObjectInfo? o)
    {
        if (o is null) throw new SerializationException("object info missing");
        return new ObjectInfo(o.Bucket, o.Key, o.VersionId, NonNegative(o.Size, "object size"), Hash(o.Sha256, "object hash"),
            o.CreatedUnixMs, NonNegative(o.ChunkCount, "chunk count"), o.Writer, File(o.File));
    }

    public static W.FileMetadata? File(FileMetadata? f) => f is { } m ? new() { Mode = (uint)m.Mode, ModifiedUnixNs = m.ModifiedUnixNs } : null;

    public static FileMetadata? File(W.FileMetadata? f) => f is null ? null
        : f.Mode > FileMetadata.PermissionBits ? throw new SerializationException($"file mode {Convert.ToString(f.Mode, 8)} has more than permission bits")
        : new FileMetadata((int)f.Mode, f.ModifiedUnixNs);

    public static W.Manifest Manifest(ObjectManifest m) => new()
    {
        Bucket = m.Bucket, Key = m.Key, VersionId = m.VersionId, Size = m.Size, Sha256 = Bytes(m.Sha256),
        CreatedUnixMs = m.Created.ToUnixTimeMilliseconds(), Writer = m.Writer, Chunks = Chunks(m.Chunks), File = File(m.File),
    };

    /// <param name="complete">The chunk list is the whole object's, so its lengths must add up to the size.</param>
    public static ObjectManifest Manifest(W.Manifest? m, bool complete = true)
    {
        if (m is null) throw new SerializationException("manifest missing");
        var chunks = Chunks(m.Chunks);
        var size = NonNegative(m.Size, "object size");
        if (complete && chunks.Sum(c => (long)c.Length) is var total && total != size)
            throw new SerializationException($"manifest of {m.Bucket}/{m.Key}: chunks add up to {total} bytes, the object has {size}");
        return new ObjectManifest(m.Bucket, m.Key, m.VersionId, size, Hash(m.Sha256, "object hash"),
            DateTimeOffset.FromUnixTimeMilliseconds(m.CreatedUnixMs), chunks, m.Writer, File(m.File));
    }

    public static W.DeleteMarker Marker(DeleteMarker d) => new()
    {
        Bucket = d.Bucket, Key = d.Key, VersionId = d.VersionId, CreatedUnixMs = d.Created.ToUnixTimeMilliseconds(), Writer = d.Writer,
    };

    public static DeleteMarker Marker(W.DeleteMarker? d) => d is null
        ? throw new SerializationException("delete marker missing")
        : new DeleteMarker(d.Bucket, d.Key, d.VersionId, DateTimeOffset.FromUnixTimeMilliseconds(d.CreatedUnixMs), d.Writer);

    /// <summary>Codes share their numbers on both sides; one this node does not know (from a newer node) keeps its number.</summary>
    public static W.ErrorCode Code(StoreErrorCode code) => (W.ErrorCode)(int)code;

    public static StoreErrorCode Code(W.ErrorCode code) => (StoreErrorCode)(int)code;

    public static long NonNegative(long value, string what) => value >= 0 ? value : throw new SerializationException($"negative {what} {value}");

    public static int NonNegative(int value, string what) => value >= 0 ? value : throw new SerializationException($"negative {what} {value}");
}
