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
}
