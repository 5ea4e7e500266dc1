using System.Text;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Protocol;

/// <summary>
/// Keeps a listing page inside one Akka.Remote frame (128000 bytes): a page holds as many objects as
/// fit in <see cref="MaxBytes"/>, however long their keys (up to 1 KiB each), and says it is truncated
/// when it stops early. The client pages on from the last key.
/// </summary>
public static class ListingPage
{
    public const int MaxBytes = 96 * 1024;

    /// <summary>The serialized size of one listing row, within a few bytes.</summary>
    public static int SizeOf(ObjectInfo o) =>
        Encoding.UTF8.GetByteCount(o.Bucket) + Encoding.UTF8.GetByteCount(o.Key) + o.VersionId.Length + o.Writer.Length + 80;

    /// <summary>The longest prefix of <paramref name="rows"/> (at most <paramref name="limit"/>) that fits a page, and whether rows were left out.</summary>
    public static (List<ObjectInfo> Rows, bool Truncated) Fit(IReadOnlyList<ObjectInfo> rows, int limit)
    {
        var page = new List<ObjectInfo>(Math.Min(rows.Count, limit));
        var bytes = 0;
        foreach (var row in rows)
        {
            bytes += SizeOf(row);
            if (page.Count == limit || (page.Count > 0 && bytes > MaxBytes)) return (page, true);
            page.Add(row);
        }
        return (page, false);
    }
}
