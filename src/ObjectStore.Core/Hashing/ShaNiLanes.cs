using System.Buffers.Binary;

namespace ObjectStore.Core.Hashing;

/// <summary>
/// What every user of <see cref="ShaNiKernel"/> needs around the compression: the initial state in the
/// kernel's word order, one stream compressed alone, and the padding and digest at the end.
/// </summary>
internal static class ShaNiLanes
{
    public const int Block = 64;

    /// <summary>Initial SHA-256 state, in the kernel's word order (f,e,b,a,h,g,d,c).</summary>
    public static ReadOnlySpan<uint> Initial => [0x9b05688c, 0x510e527f, 0xbb67ae85, 0x6a09e667, 0x5be0cd19, 0x1f83d9ab, 0xa54ff53a, 0x3c6ef372];

    /// <summary>One stream's blocks; the kernel's second lane hashes the same bytes into <paramref name="scratch"/> (free: it fills the same gaps).</summary>
    public static void CompressOne(ShaNiKernel kernel, Span<uint> state, Span<uint> scratch, ReadOnlySpan<byte> data, int blocks) =>
        kernel.CompressPair(state, scratch, data, data, blocks);

    /// <summary>SHA-256 padding after the last full block (0x80, zeros, the length in bits, big-endian) and the digest.</summary>
    public static ContentHash Finish(ShaNiKernel kernel, Span<uint> state, Span<uint> scratch, ReadOnlySpan<byte> tail, long totalLength)
    {
        Span<byte> last = stackalloc byte[2 * Block];
        last.Clear();
        tail.CopyTo(last);
        last[tail.Length] = 0x80;
        var blocks = tail.Length + 1 + 8 <= Block ? 1 : 2;
        BinaryPrimitives.WriteUInt64BigEndian(last[(blocks * Block - 8)..], (ulong)totalLength * 8);
        CompressOne(kernel, state, scratch, last, blocks);

        // Back from the kernel's word order (f,e,b,a,h,g,d,c) to a..h.
        Span<byte> digest = stackalloc byte[ContentHash.Size];
        ReadOnlySpan<int> order = [3, 2, 7, 6, 1, 0, 5, 4];
        for (var i = 0; i < 8; i++) BinaryPrimitives.WriteUInt32BigEndian(digest[(4 * i)..], state[order[i]]);
        return ContentHash.FromBytes(digest);
    }
}
