using BenchmarkDotNet.Attributes;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;

namespace ObjectStore.Benchmarks;

/// <summary>
/// Fetching a large manifest's chunk list in pages of 2,000 (manifest-page), as a get or stat of a
/// large object does from the node that has it: each page read on its own (<see cref="ObjectIndex.ChunkPage"/>)
/// against the whole manifest read for every page and cut (the replica endpoint's way before). The
/// baseline is reading the whole manifest once.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 1, iterationCount: 5, invocationCount: 1)]
public class ManifestPageBenchmarks
{
    private const int Page = 2000;
    private string _dir = null!;
    private ObjectIndex _index = null!;
    private ObjectManifest _manifest = null!;

    /// <summary>Chunks of the object: 20,000 is about 24 GiB of average 1.2 MiB chunks, 100,000 about 120 GiB.</summary>
    [Params(20_000, 100_000)]
    public int Chunks;

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "manifest-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        _index = new ObjectIndex(_dir);
        var chunks = Enumerable.Range(0, Chunks).Select(i => new ChunkRef(ContentHash.Compute(BitConverter.GetBytes(i)), 1_258_291)).ToList();
        _manifest = new ObjectManifest("bench", "large", ObjectManifest.NewVersionId(), chunks.Sum(c => (long)c.Length), ContentHash.Compute([1]),
            DateTimeOffset.UtcNow, chunks, "node-a");
        _index.Commit(_manifest);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _index.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark(Baseline = true, Description = "whole manifest, once")]
    public int WholeOnce() => _index.TryGet("bench", "large")!.Chunks.Count;

    [Benchmark(Description = "pages, each read on its own (ChunkPage)")]
    public int PagesBySeek()
    {
        var total = 0;
        for (var start = 0; start < Chunks; start += Page) total += _index.ChunkPage("bench", "large", _manifest.VersionId, start, Page)!.Count;
        return total;
    }

    [Benchmark(Description = "pages, whole manifest read for each (before)")]
    public int PagesByWholeManifest()
    {
        var total = 0;
        for (var start = 0; start < Chunks; start += Page) total += _index.TryGet("bench", "large")!.Chunks.Skip(start).Take(Page).Count();
        return total;
    }
}
