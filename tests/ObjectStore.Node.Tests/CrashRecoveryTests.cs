namespace ObjectStore.Node.Tests;

public class CrashRecoveryTests : IDisposable
{
    private readonly TestFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task Kill_9_during_a_put_of_many_files_leaves_only_whole_objects_and_the_put_can_be_rerun()
    {
        var data = _files.PathOf("data");
        var tree = _files.PathOf("tree");
        // The fourth file is large and goes alone; the first three are 2 MiB (at most 8 chunks each).
        for (var i = 0; i < 40; i++) _files.RandomFile($"tree/f{i:D2}.bin", i == 3 ? 64 * 1024 * 1024 : 2 * 1024 * 1024 + i, i);

        // The node kills itself with SIGKILL (kill -9: no shutdown hooks, no flushing) when it has
        // written its 40th chunk file: after the first three objects, inside the fourth. Killing it from
        // here when the shell reported the third commit was a race the node won on a fast machine.
        var failpoint = new Dictionary<string, string> { [ObjectStoreProcess.KillAfterChunkWrites] = "40" };
        using (var node = await ObjectStoreProcess.NodeProcess.StartAsync(data, failpoint))
        {
            var interrupted = await ObjectStoreProcess.RunAsync(TimeSpan.FromMinutes(2), null,
                "shell", "--node", $"127.0.0.1:{node.Port}", "-c", $"put -r '{tree}' crash/tree");
            Assert.NotEqual(0, interrupted.ExitCode);
            Assert.StartsWith("error: ", interrupted.Stderr);
            Assert.True(node.WaitForExit(TimeSpan.FromSeconds(10)), "the node should have killed itself");
        }

        using (var restarted = await ObjectStoreProcess.NodeProcess.StartAsync(data))
        {
            var listing = await ObjectStoreProcess.ShellAsync(restarted.Port, "ls crash/tree");
            Assert.Equal(0, listing.ExitCode);
            var keys = listing.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Where(l => l.Contains("tree/f")).Select(l => l[(l.IndexOf("tree/f", StringComparison.Ordinal))..].Trim()).ToList();
            Assert.InRange(keys.Count, 3, 39);
            foreach (var key in keys)
            {
                var name = key["tree/".Length..];
                var get = await ObjectStoreProcess.ShellAsync(restarted.Port, $"get crash/{key} '{_files.PathOf("out-" + name)}'");
                Assert.True(get.ExitCode == 0, get.Stderr);
                Assert.True(File.ReadAllBytes(Path.Combine(tree, name)).AsSpan().SequenceEqual(File.ReadAllBytes(_files.PathOf("out-" + name))), $"{key} differs");
            }
            Assert.Empty(Directory.GetFiles(Path.Combine(data, "tmp")));

            var rerun = await ObjectStoreProcess.ShellAsync(restarted.Port, $"put -r '{tree}' crash/tree; get -r crash/tree '{_files.PathOf("all")}'");
            Assert.True(rerun.ExitCode == 0, rerun.Stderr);
            TestFiles.AssertSameTree(tree, _files.PathOf("all"));
        }
    }

    [Fact]
    public async Task Kill_9_during_a_put_r_of_small_files_in_batches_leaves_only_whole_objects_and_the_put_can_be_rerun()
    {
        var data = _files.PathOf("data");
        var tree = _files.PathOf("small");
        for (var i = 0; i < 300; i++) _files.RandomFile($"small/d{i % 7}/f{i:D3}", 4096 + i, 1000 + i);

        // Batches of about 14 objects, 8 in flight: the node kills itself at its 100th chunk file, with
        // batches written, committed, and half-written at that moment.
        var failpoint = new Dictionary<string, string> { [ObjectStoreProcess.KillAfterChunkWrites] = "100" };
        using (var node = await ObjectStoreProcess.NodeProcess.StartAsync(data, failpoint))
        {
            var interrupted = await ObjectStoreProcess.RunAsync(TimeSpan.FromMinutes(2), null,
                "shell", "--node", $"127.0.0.1:{node.Port}", "-c", $"put -r '{tree}' crash/small");
            Assert.NotEqual(0, interrupted.ExitCode);
            // Told when the node is seen gone (seconds), not when the batch's timeout ends (a minute); and
            // not told that nothing was stored: some batches may have been.
            Assert.Contains("went away", interrupted.Stderr);
            Assert.Contains("may or may not have stored", interrupted.Stderr);
            Assert.True(node.WaitForExit(TimeSpan.FromSeconds(10)), "the node should have killed itself");
        }

        using (var restarted = await ObjectStoreProcess.NodeProcess.StartAsync(data))
        {
            var listing = await ObjectStoreProcess.ShellAsync(restarted.Port, "ls crash/small");
            var keys = listing.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Where(l => l.Contains("small/d")).Select(l => l[l.IndexOf("small/d", StringComparison.Ordinal)..].Trim()).ToList();
            Assert.InRange(keys.Count, 0, 99); // each object is a chunk of its own, and the 100th chunk file was never committed
            if (keys.Count > 0)
            {
                // Every object listed comes back whole (its hash checked), in batches.
                var back = await ObjectStoreProcess.ShellAsync(restarted.Port, $"get -r crash/small '{_files.PathOf("partial")}'");
                Assert.True(back.ExitCode == 0, back.Stderr);
                foreach (var key in keys)
                {
                    var relative = key["small/".Length..];
                    Assert.True(File.ReadAllBytes(Path.Combine(tree, relative)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(_files.PathOf("partial"), relative))),
                        $"{key} differs");
                }
                Assert.Equal(keys.Count, Directory.GetFiles(_files.PathOf("partial"), "*", SearchOption.AllDirectories).Length);
            }
            Assert.Empty(Directory.GetFiles(Path.Combine(data, "tmp")));

            var rerun = await ObjectStoreProcess.ShellAsync(restarted.Port, $"put -r '{tree}' crash/small; get -r crash/small '{_files.PathOf("all")}'");
            Assert.True(rerun.ExitCode == 0, rerun.Stderr);
            TestFiles.AssertSameTree(tree, _files.PathOf("all"));
        }
    }
}
