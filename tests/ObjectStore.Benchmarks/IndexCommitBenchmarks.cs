using BenchmarkDotNet.Attributes;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;

namespace ObjectStore.Benchmarks;

/// <summary>
/// One batch of small puts as the index commits it: 64 new one-chunk manifests in one transaction
/// (<see cref="ObjectIndex.CommitMany"/>), then the same keys again with new versions (each replacing one),
/// as a tree of small files put twice does. synchronous=FULL, as a node runs: each commit waits for the disk.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 2, iterationCount: 15)]
public class IndexCommitBenchmarks
{
    private const int Batch = 64;
    private string _dir = null!;
    private ObjectIndex _index = null!;
    private int _round;

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "index-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        _index = new ObjectIndex(_dir);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _index.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark(Description = "64 small manifests, one transaction")]
    public int CommitBatch()
    {
        var round = ++_round;
        var created = DateTimeOffset.UtcNow.AddSeconds(round);
        var manifests = Enumerable.Range(0, Batch).Select(i =>
        {
            var chunk = ContentHash.Compute(BitConverter.GetBytes(round * Batch + i));
            return new ObjectManifest("bench", $"tree/dir{i % 8}/file{i}", ObjectManifest.NewVersionId(), 4096, chunk, created,
                [new ChunkRef(chunk, 4096)], "node-a");
        }).ToList();
        return _index.CommitMany(manifests).Count(r => r.Current);
    }
}
