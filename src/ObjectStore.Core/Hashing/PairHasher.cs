namespace ObjectStore.Core.Hashing;

/// <summary>
/// The SHA-256 of two independent buffers (two chunks to check against their ids) in one pass of
/// <see cref="ShaNiKernel"/>: their common length of 64-byte blocks interleaved, the longer one's rest
/// alone. One SHA-NI stream waits on the latency of its rounds; a second one fills the gaps, so two
/// chunks cost about a third less than hashing them one after the other (docs/BENCHMARKS.md).
/// </summary>
public static class PairHasher
{
    public static (ContentHash A, ContentHash B) Hash(ShaNiKernel kernel, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        const int block = ShaNiLanes.Block;
        Span<uint> stateA = stackalloc uint[8], stateB = stackalloc uint[8], scratch = stackalloc uint[8];
        ShaNiLanes.Initial.CopyTo(stateA);
        ShaNiLanes.Initial.CopyTo(stateB);
        int blocksA = a.Length / block, blocksB = b.Length / block, paired = Math.Min(blocksA, blocksB);
        kernel.CompressPair(stateA, stateB, a, b, paired);
        ShaNiLanes.CompressOne(kernel, stateA, scratch, a[(paired * block)..], blocksA - paired);
        ShaNiLanes.CompressOne(kernel, stateB, scratch, b[(paired * block)..], blocksB - paired);
        return (ShaNiLanes.Finish(kernel, stateA, scratch, a[(blocksA * block)..], a.Length),
            ShaNiLanes.Finish(kernel, stateB, scratch, b[(blocksB * block)..], b.Length));
    }
}
