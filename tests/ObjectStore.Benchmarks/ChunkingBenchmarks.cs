using BenchmarkDotNet.Attributes;
using ObjectStore.Core.Chunking;
using ObjectStore.Core.Hashing;

namespace ObjectStore.Benchmarks;

/// <summary>
/// The core's speed on a 512 MiB buffer of random bytes (the default chunk sizes). Ratios in
/// docs/BENCHMARKS.md are taken between these methods in one run: the baseline is SHA-256 alone.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 1, iterationCount: 5, invocationCount: 1)]
public class ChunkingBenchmarks
{
    public const int BufferSize = 512 * 1024 * 1024;
    private byte[] _data = null!;
    private FastCdcChunker _chunker = null!;

    [GlobalSetup]
    public void Setup()
    {
        _data = new byte[BufferSize];
        new Random(42).NextBytes(_data);
        _chunker = (FastCdcChunker)new ChunkerOptions
        {
            Algorithm = ChunkingAlgorithm.FastCdc, MinSize = 256 * ChunkerOptions.KiB, AverageSize = ChunkerOptions.MiB,
            MaxSize = 4 * ChunkerOptions.MiB, FixedSize = ChunkerOptions.MiB, ShaNi = true,
        }.CreateChunker();
    }

    [Benchmark(Baseline = true, Description = "SHA-256 alone")]
    public ContentHash Sha256Alone() => ContentHash.Compute(_data);

    [Benchmark(Description = "FastCDC alone (1 core)")]
    public int FastCdcAlone()
    {
        var count = 0;
        var offset = 0;
        while (offset < _data.Length)
        {
            offset += _chunker.Cut(_data.AsSpan(offset));
            count++;
        }
        return count;
    }

    /// <summary>
    /// The reference the issue names: a plain one-byte-per-step gear loop with the same sizes and masks,
    /// bounds checks removed. Shows how fast this machine is in this run.
    /// </summary>
    [Benchmark(Description = "plain gear loop (reference)")]
    public unsafe int PlainGearLoop()
    {
        const int min = 256 * 1024, avg = 1024 * 1024, max = 4 * 1024 * 1024;
        const ulong maskSmall = 0x0000d91767537000, maskLarge = 0x0000d91707537000;
        var count = 0;
        fixed (byte* start = _data)
        fixed (ulong* gear = FastCdcChunker.GearTable)
        {
            var offset = 0;
            while (offset < _data.Length)
            {
                var n = Math.Min(_data.Length - offset, max);
                var cut = n;
                if (n > min)
                {
                    var src = start + offset;
                    var center = Math.Min(avg, n);
                    ulong h = 0;
                    var i = min;
                    for (; i < center; i++)
                    {
                        h = (h << 1) + gear[src[i]];
                        if ((h & maskSmall) == 0) { cut = i + 1; goto found; }
                    }
                    for (; i < n; i++)
                    {
                        h = (h << 1) + gear[src[i]];
                        if ((h & maskLarge) == 0) { cut = i + 1; goto found; }
                    }
                }
            found:
                offset += cut;
                count++;
            }
        }
        return count;
    }

    [Benchmark(Description = "FastCDC then SHA-256, one thread")]
    public int ChunkThenHash() => ParallelChunkHasher.ChunkThenHash(_data, _chunker).Count;

    [Benchmark(Description = "FastCDC + SHA-256 overlapped")]
    public int ChunkAndHashOverlapped() => ParallelChunkHasher.ChunkAndHash(_data, _chunker).Count;

    /// <summary>A put's two hashes (every chunk's id and the whole object's), on one thread, 1 MiB chunks.</summary>
    [Benchmark(Description = "chunk ids + object hash, SHA-256 twice")]
    public ContentHash BothHashesTwoPasses()
    {
        using var objectHash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var chunk in Chunks())
        {
            objectHash.AppendData(chunk.Span);
            ContentHash.Compute(chunk.Span);
        }
        return ContentHash.FromBytes(objectHash.GetHashAndReset());
    }

    /// <summary>The same with the SHA-NI two-stream kernel (the two passes above where the CPU lacks it).</summary>
    [Benchmark(Description = "chunk ids + object hash, one SHA-NI pass")]
    public ContentHash BothHashesOnePass()
    {
        if (ShaNiKernel.Instance is not { } kernel) return BothHashesTwoPasses();
        var hasher = new ObjectHasher(kernel);
        foreach (var chunk in Chunks()) hasher.AppendChunk(chunk.Span);
        return hasher.Complete();
    }

    private IEnumerable<ReadOnlyMemory<byte>> Chunks()
    {
        const int chunk = 1024 * 1024;
        for (var offset = 0; offset < _data.Length; offset += chunk)
            yield return _data.AsMemory(offset, Math.Min(chunk, _data.Length - offset));
    }
}
