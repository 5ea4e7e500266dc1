using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using ObjectStore.Core.Hashing;

namespace ObjectStore.Core.Sync;

/// <summary>
/// The 64-bit keys anti-entropy compares: a chunk by the first 8 bytes of its id (already uniform), an
/// object version and a delete marker by a hash of what names them. A key collision (about 1 in 2^64 per
/// pair) can only hide a difference until the next version or chunk changes the range.
/// </summary>
public static class SyncItem
{
    public static ulong OfChunk(ContentHash id)
    {
        Span<byte> bytes = stackalloc byte[ContentHash.Size];
        id.WriteTo(bytes);
        return BinaryPrimitives.ReadUInt64BigEndian(bytes);
    }

    public static ulong OfVersion(string versionId) => XxHash64.HashToUInt64(Encoding.UTF8.GetBytes("v:" + versionId));

    public static ulong OfDeleteMarker(string bucket, string key, string versionId) =>
        XxHash64.HashToUInt64(Encoding.UTF8.GetBytes($"d:{bucket}/{key}/{versionId}"));
}
