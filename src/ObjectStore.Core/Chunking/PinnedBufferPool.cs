using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace ObjectStore.Core.Chunking;

/// <summary>
/// Pinned arrays (on the pinned object heap, so their address never changes) with room for a region
/// that starts on a 4 KiB boundary, in power-of-two sizes from 128 KiB. Returned arrays are kept for reuse
/// up to <see cref="MaxKeptBytes"/> in all; the rest are left to the garbage collector.
/// </summary>
/// <remarks>
/// Why not ArrayPool: its arrays may move and are aligned to 8 or 16 bytes, while O_DIRECT wants the
/// device's block alignment. Why not native memory: a chunk's bytes are also referenced by messages
/// queued for the network, and a managed array stays valid for as long as any of them holds it.
/// Why a budget in bytes rather than a count per size: a gateway's get of 1 GiB has ~40 chunk buffers out at once
/// (32 read ahead, more being hashed); with 16 kept per size the rest were dropped and allocated anew for every
/// chunk, and the pinned heap, collected only with gen2, took the gateway to 455–605 MiB (docs/BENCHMARKS.md,
/// twelfth step). What is kept is at most what was once in use at the same time.
/// </remarks>
internal static class PinnedBufferPool
{
    internal const long MaxKeptBytes = 128L * 1024 * 1024;
    private const int SmallestShift = 17; // 128 KiB
    private const int LargestShift = 26;  // 64 MiB, the largest chunk a configuration allows
    private static readonly ConcurrentBag<byte[]>[] Pools =
        Enumerable.Range(0, LargestShift - SmallestShift + 1).Select(_ => new ConcurrentBag<byte[]>()).ToArray();
    private static long _keptBytes;

    /// <summary>What the pool holds for reuse now.</summary>
    internal static long KeptBytes => Interlocked.Read(ref _keptBytes);

    /// <summary>An array, the offset of its aligned region, and that region's size (at least <paramref name="capacity"/>).</summary>
    public static (byte[] Array, int Offset, int Size) Rent(int capacity)
    {
        var shift = Math.Max(SmallestShift, 32 - BitOperations.LeadingZeroCount((uint)Math.Max(capacity, 1) - 1));
        var size = 1 << shift;
        byte[]? array = null;
        if (shift <= LargestShift && Pools[shift - SmallestShift].TryTake(out array))
            Interlocked.Add(ref _keptBytes, -size);
        array ??= GC.AllocateUninitializedArray<byte>(size + ChunkBuffer.Alignment, pinned: true);
        return (array, OffsetOfAlignedRegion(array), size);
    }

    public static void Return(byte[] array)
    {
        var shift = BitOperations.Log2((uint)(array.Length - ChunkBuffer.Alignment));
        if (shift is < SmallestShift or > LargestShift) return;
        var size = 1L << shift;
        if (Interlocked.Add(ref _keptBytes, size) > MaxKeptBytes)
        {
            Interlocked.Add(ref _keptBytes, -size);
            return;
        }
        Pools[shift - SmallestShift].Add(array);
    }

    private static unsafe int OffsetOfAlignedRegion(byte[] array)
    {
        var address = (long)Unsafe.AsPointer(ref array[0]);
        return (int)((ChunkBuffer.Alignment - address % ChunkBuffer.Alignment) % ChunkBuffer.Alignment);
    }
}
