using BenchmarkDotNet.Attributes;
using ObjectStore.Core.Hashing;

namespace ObjectStore.Benchmarks;

/// <summary>
/// Checking chunks read for a get against their ids: 64 chunks of 1.2 MiB (77 MiB), one at a time with the
/// runtime's SHA-256 (the baseline, what every read did) or two at a time in one SHA-NI pass
/// (<see cref="PairHasher"/>). One thread: the figure is CPU per byte checked.
/// </summary>
[SimpleJob(warmupCount: 2, iterationCount: 10)]
public class ChunkVerifyBenchmarks
{
    private const int ChunkSize = 1_258_291;
    private byte[][] _chunks = null!;
    private ContentHash[] _ids = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        _chunks = Enumerable.Range(0, 64).Select(_ =>
        {
            var chunk = new byte[ChunkSize];
            random.NextBytes(chunk);
            return chunk;
        }).ToArray();
        _ids = _chunks.Select(c => ContentHash.Compute(c)).ToArray();
        if (ShaNiKernel.Instance is null) throw new InvalidOperationException("this benchmark needs a CPU with the SHA extensions");
    }

    [Benchmark(Baseline = true, Description = "one at a time, runtime SHA-256")]
    public int OneAtATime()
    {
        var matching = 0;
        for (var i = 0; i < _chunks.Length; i++)
            if (ContentHash.Compute(_chunks[i]) == _ids[i]) matching++;
        return matching;
    }

    [Benchmark(Description = "two at a time, one SHA-NI pass (PairHasher)")]
    public int InPairs()
    {
        var matching = 0;
        for (var i = 0; i < _chunks.Length; i += 2)
        {
            var (a, b) = PairHasher.Hash(ShaNiKernel.Instance!, _chunks[i], _chunks[i + 1]);
            if (a == _ids[i]) matching++;
            if (b == _ids[i + 1]) matching++;
        }
        return matching;
    }
}
