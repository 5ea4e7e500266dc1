using System.Runtime.CompilerServices;

namespace ObjectStore.Core.Chunking;

/// <summary>
/// FastCDC, 2020 variant (Xia et al., IEEE TPDS 2020): gear hash, cut-point search that starts at the
/// minimum size, normalized chunking at level 1 (a harder mask below the average size, an easier one
/// above it) and two bytes rolled per loop step.
/// </summary>
/// <remarks>
/// Written by hand because no maintained .NET package implements FastCDC. The gear table is produced
/// from a fixed seed and the masks are those of fastcdc-rs; both are part of the on-disk format in
/// effect, since changing either moves every boundary and defeats dedup against existing data.
/// </remarks>
public sealed class FastCdcChunker : IChunker
{
    public const int SmallestAverage = 256;
    public const int LargestAverage = 16 * 1024 * 1024;

    // Masks indexed by bit count (log2 of a chunk size), with ones spread over the hash's middle bits.
    private static readonly ulong[] Masks =
    [
        0, 0, 0, 0, 0,
        0x0000000001804110, // 32 B
        0x0000000001803110, // 64 B
        0x0000000018035100, // 128 B
        0x0000001800035300, // 256 B
        0x0000019000353000, // 512 B
        0x0000590003530000, // 1 KiB
        0x0000d90003530000, // 2 KiB
        0x0000d90103530000, // 4 KiB
        0x0000d90303530000, // 8 KiB
        0x0000d90313530000, // 16 KiB
        0x0000d90f03530000, // 32 KiB
        0x0000d90303537000, // 64 KiB
        0x0000d90703537000, // 128 KiB
        0x0000d90707537000, // 256 KiB
        0x0000d91707537000, // 512 KiB
        0x0000d91747537000, // 1 MiB
        0x0000d91767537000, // 2 MiB
        0x0000d93767537000, // 4 MiB
        0x0000d93777537000, // 8 MiB
        0x0000d93777577000, // 16 MiB
        0x0000db3777577000, // 32 MiB
    ];

    internal static readonly ulong[] Gear = BuildGear();

    /// <summary>The gear table, for reference implementations in benchmarks and tests.</summary>
    public static ReadOnlySpan<ulong> GearTable => Gear;
    private static readonly ulong[] GearShifted = Gear.Select(g => g << 1).ToArray();

    private readonly ulong _maskSmall, _maskLarge, _maskSmallShifted, _maskLargeShifted;

    public FastCdcChunker(int minSize, int averageSize, int maxSize)
    {
        if (!(0 < minSize && minSize < averageSize && averageSize < maxSize))
            throw new ArgumentException($"FastCDC needs 0 < min < avg < max, got {minSize} / {averageSize} / {maxSize}");
        if (averageSize is < SmallestAverage or > LargestAverage)
            throw new ArgumentOutOfRangeException(nameof(averageSize), averageSize, $"average size must be {SmallestAverage}..{LargestAverage}");
        MinSize = minSize;
        AverageSize = averageSize;
        MaxSize = maxSize;
        var bits = (int)Math.Round(Math.Log2(averageSize));
        _maskSmall = Masks[bits + 1];
        _maskLarge = Masks[bits - 1];
        _maskSmallShifted = _maskSmall << 1;
        _maskLargeShifted = _maskLarge << 1;
    }

    public int MinSize { get; }
    public int AverageSize { get; }
    public int MaxSize { get; }

    /// <summary>Cut point of a complete buffer (the last chunk when it is shorter than the maximum).</summary>
    public int Cut(ReadOnlySpan<byte> data)
    {
        var state = CutScanState.Start;
        var cut = FindCut(data, ref state);
        return cut < 0 ? data.Length : cut;
    }

    public int FindCut(ReadOnlySpan<byte> chunk, ref CutScanState state)
    {
        var available = chunk.Length;
        if (available <= MinSize) return -1;
        var limit = Math.Min(available, MaxSize);
        if (state.Position < MinSize)
        {
            state.Position = MinSize;
            state.Hash = 0;
        }

        var center = Math.Min(AverageSize, limit);
        var hash = state.Hash;
        var position = state.Position;
        int cut;
        if (position < center)
        {
            cut = Scan(chunk, ref position, center, _maskSmall, _maskSmallShifted, ref hash);
            if (cut > 0) return cut;
        }
        if (position < limit)
        {
            cut = Scan(chunk, ref position, limit, _maskLarge, _maskLargeShifted, ref hash);
            if (cut > 0) return cut;
        }
        if (limit == MaxSize) return MaxSize;
        state.Position = position;
        state.Hash = hash;
        return -1;
    }

    /// <summary>
    /// Rolls the gear hash over [position, end). Two bytes per step: the first byte's test is done on
    /// the hash shifted left by one (against the shifted mask), which is the same test without the extra shift.
    /// Returns the chunk length at the first match, or 0 with <paramref name="position"/> and
    /// <paramref name="hash"/> left at <paramref name="end"/>.
    /// </summary>
    /// <summary>Below this many bytes left, a range is scanned as one stream.</summary>
    private const int StreamBlock = 16 * 1024;

    /// <summary>Bytes after which a gear hash no longer depends on where it started (64-bit hash, one shift per byte).</summary>
    private const int GearWindow = 64;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe int Scan(ReadOnlySpan<byte> data, ref int position, int end, ulong mask, ulong maskShifted, ref ulong hash)
    {
        // The gear hash is one long dependency chain (shift, add, add per byte pair) that leaves most
        // of the core idle. Two blocks are therefore scanned at once, the second with its hash rebuilt
        // from the 64 bytes before it (older bytes have been shifted out of a 64-bit hash). A cut in
        // the first block wins; one in the second counts only once the first has none.
        var h = hash;
        fixed (byte* src = data)
        fixed (ulong* gear = Gear)
        fixed (ulong* gearShifted = GearShifted)
        {
            var p = src + position;
            var stop = src + end;
            while (stop - p >= 2 * StreamBlock)
            {
                var a = p;
                var b = p + StreamBlock;
                var hb = 0UL;
                for (var w = b - GearWindow; w < b; w++) hb = (hb << 1) + gear[*w];
                var blockEnd = b;
                while (a < blockEnd)
                {
                    h = (h << 2) + gearShifted[a[0]];
                    if ((h & maskShifted) == 0) return Found(src, a + 1, ref hash);
                    h += gear[a[1]];
                    if ((h & mask) == 0) return Found(src, a + 2, ref hash);
                    a += 2;
                    hb = (hb << 2) + gearShifted[b[0]];
                    if ((hb & maskShifted) == 0) return FinishFirst(src, a, blockEnd, b + 1, gear, gearShifted, mask, maskShifted, h, ref hash);
                    hb += gear[b[1]];
                    if ((hb & mask) == 0) return FinishFirst(src, a, blockEnd, b + 2, gear, gearShifted, mask, maskShifted, h, ref hash);
                    b += 2;
                }
                h = hb;
                p = b;
            }
            var cut = ScanOneStream(src, ref p, stop, gear, gearShifted, mask, maskShifted, ref h);
            if (cut > 0)
            {
                hash = h;
                return cut;
            }
            position = (int)(p - src);
        }
        hash = h;
        return 0;
    }

    /// <summary>
    /// The second block found a cut at <paramref name="secondCut"/>; finish scanning the first block from
    /// <paramref name="a"/> (its hash <paramref name="h"/>), whose own cut, if any, comes earlier.
    /// </summary>
    private static unsafe int FinishFirst(byte* src, byte* a, byte* blockEnd, byte* secondCut, ulong* gear, ulong* gearShifted,
        ulong mask, ulong maskShifted, ulong h, ref ulong hash)
    {
        var cut = ScanOneStream(src, ref a, blockEnd, gear, gearShifted, mask, maskShifted, ref h);
        return cut > 0 ? cut : (int)(secondCut - src);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe int ScanOneStream(byte* src, ref byte* p, byte* stop, ulong* gear, ulong* gearShifted, ulong mask, ulong maskShifted, ref ulong hash)
    {
        var h = hash;
        var q = p;
        while (stop - q >= 2)
        {
            h = (h << 2) + gearShifted[q[0]];
            if ((h & maskShifted) == 0) return Found(src, q + 1, ref hash);
            h += gear[q[1]];
            if ((h & mask) == 0) return Found(src, q + 2, ref hash);
            q += 2;
        }
        if (q < stop)
        {
            h = (h << 1) + gear[*q++];
            if ((h & mask) == 0) return Found(src, q, ref hash);
        }
        p = q;
        hash = h;
        return 0;
    }

    /// <summary>A cut: the chunk ends after <paramref name="cutAfter"/>. The hash state is not needed any more.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe int Found(byte* start, byte* cutAfter, ref ulong hash)
    {
        hash = 0;
        return (int)(cutAfter - start);
    }

    /// <summary>256 pseudo-random 64-bit values from splitmix64 with a fixed seed.</summary>
    private static ulong[] BuildGear()
    {
        var table = new ulong[256];
        var state = 0x6f626a6563747374UL; // "objectst"
        for (var i = 0; i < table.Length; i++)
        {
            state += 0x9E3779B97F4A7C15UL;
            var z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            table[i] = z ^ (z >> 31);
        }
        return table;
    }
}
