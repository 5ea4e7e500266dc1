using System.Diagnostics;

namespace ObjectStore.Node.Tests;

/// <summary>The chunks a put has made durable stay pinned for it across a kill -9, for as long as its lease lasts.</summary>
public class PinRecoveryTests : IDisposable
{
    private readonly TestFiles _files = new();

    public void Dispose() => _files.Dispose();

    private static HashSet<string> ChunkFiles(string data) =>
        Directory.GetFiles(Path.Combine(data, "chunks"), "*", SearchOption.AllDirectories).Select(Path.GetFileName).ToHashSet()!;

    [Fact]
    public async Task A_put_killed_before_its_commit_keeps_its_chunks_through_a_restart_until_its_lease_ends()
    {
        var data = _files.PathOf("data");
        var file = _files.RandomFile("in.bin", 64 * 1024 * 1024, 1);
        // Long enough that the restart below happens well inside it, short enough to watch it end.
        var lease = TimeSpan.FromSeconds(30);
        var config = _files.PathOf("lease.conf");
        File.WriteAllText(config, $"objectstore.replication.pin-lease = {lease.TotalSeconds}s\n");

        // The node kills itself once every chunk of the put is durable and pinned, just before the object's commit.
        var failpoint = new Dictionary<string, string> { [ObjectStoreProcess.KillBeforeIndexCommit] = "1" };
        HashSet<string> before;
        Task<ObjectStoreProcess.Result> interrupted;
        var put = Stopwatch.StartNew();
        using (var node = await ObjectStoreProcess.NodeProcess.StartAsync(data, failpoint, config))
        {
            // The shell learns of the node's death only when its failure detector says so; the test goes on meanwhile.
            interrupted = ObjectStoreProcess.ShellAsync(node.Port, $"put '{file}' photos/big.bin");
            Assert.True(node.WaitForExit(TimeSpan.FromSeconds(60)), "the node should have killed itself");
            before = ChunkFiles(data);
        }
        Assert.True(before.Count >= 6, $"the put should have left its chunks durable, found {before.Count}");

        using (var restarted = await ObjectStoreProcess.NodeProcess.StartAsync(data, new Dictionary<string, string>(), config))
        {
            Assert.True(put.Elapsed < lease / 2, $"the restart took too long ({put.Elapsed}) for the lease check below to mean anything");
            // The start-up sweep removes unreferenced chunks a crash left behind, but not these: their put's lease lasts.
            var listing = await ObjectStoreProcess.ShellAsync(restarted.Port, "ls photos");
            var ready = DateTime.UtcNow.AddSeconds(30);
            while (!restarted.Log.Contains("chunk store ready") && DateTime.UtcNow < ready) await Task.Delay(100);
            Assert.DoesNotContain("big.bin", listing.Stdout);
            Assert.True(before.SetEquals(ChunkFiles(data)), $"the restart removed the put's chunks ({before.Count} before, {ChunkFiles(data).Count} after):\n{restarted.Log}");
            Assert.Contains("1 puts in progress", restarted.Log);

            // Once the lease has run out with no news of the put, its chunks are collected.
            var deadline = DateTime.UtcNow + lease + TimeSpan.FromSeconds(30);
            while (ChunkFiles(data).Count > 0 && DateTime.UtcNow < deadline) await Task.Delay(500);
            Assert.Empty(ChunkFiles(data));
            Assert.True(put.Elapsed >= lease, "the chunks went before the lease ended");
        }
        var shell = await interrupted;
        Assert.NotEqual(0, shell.ExitCode);
    }
}
