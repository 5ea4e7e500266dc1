namespace ObjectStore.Core.Sync;

/// <summary>A range of the 64-bit item space: the items whose top 4·<see cref="Depth"/> bits equal <see cref="Prefix"/>.</summary>
public readonly record struct HashRange(ulong Prefix, int Depth)
{
    public const int Fanout = 16;
    public const int MaxDepth = 16;
    public static readonly HashRange Root = new(0, 0);

    public ulong First => Depth == 0 ? 0 : Prefix << (64 - 4 * Depth);
    public ulong Last => Depth == 0 ? ulong.MaxValue : First | (ulong.MaxValue >> (4 * Depth));

    public IEnumerable<HashRange> Children()
    {
        for (var i = 0UL; i < Fanout; i++) yield return new HashRange((Prefix << 4) | i, Depth + 1);
    }
}

/// <summary>What a range holds, in 16 bytes: how many items and a hash of them (the sum of each item mixed).</summary>
public readonly record struct RangeDigest(HashRange Range, long Count, ulong Hash);

/// <summary>
/// A node's items (64-bit keys, <see cref="SyncItem"/>) sorted, with running sums, so that the digest of any
/// <see cref="HashRange"/> costs two binary searches: the Merkle tree of the items over the hash space, 16
/// children per level, computed on demand rather than stored. Two nodes compare the root, then only the
/// children that differ, down to ranges small enough to list.
/// </summary>
/// <remarks>
/// The hash of a range is the sum (mod 2^64) of its items each mixed by SplitMix64: order does not matter,
/// so any two sets with the same items agree, and a sum (unlike XOR) does not let two equal items cancel.
/// </remarks>
public sealed class DigestTree
{
    private readonly ulong[] _items;
    private readonly ulong[] _sums;

    public DigestTree(IEnumerable<ulong> items)
    {
        _items = items.Distinct().Order().ToArray();
        _sums = new ulong[_items.Length + 1];
        for (var i = 0; i < _items.Length; i++) _sums[i + 1] = unchecked(_sums[i] + Mix(_items[i]));
    }

    public int Count => _items.Length;

    public RangeDigest Digest(HashRange range)
    {
        var (from, to) = Bounds(range);
        return new RangeDigest(range, to - from, unchecked(_sums[to] - _sums[from]));
    }

    public ReadOnlySpan<ulong> Items(HashRange range)
    {
        var (from, to) = Bounds(range);
        return _items.AsSpan(from, to - from);
    }

    public bool Contains(ulong item) => Array.BinarySearch(_items, item) >= 0;

    private (int From, int To) Bounds(HashRange range)
    {
        var from = LowerBound(range.First);
        var to = range.Last == ulong.MaxValue ? _items.Length : LowerBound(range.Last + 1);
        return (from, to);
    }

    private int LowerBound(ulong value)
    {
        int lo = 0, hi = _items.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_items[mid] < value) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    private static ulong Mix(ulong x)
    {
        unchecked
        {
            x += 0x9E3779B97F4A7C15;
            x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9;
            x = (x ^ (x >> 27)) * 0x94D049BB133111EB;
            return x ^ (x >> 31);
        }
    }
}
