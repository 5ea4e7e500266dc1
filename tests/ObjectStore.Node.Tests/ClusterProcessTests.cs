
namespace ObjectStore.Node.Tests;

/// <summary>Three <c>objectstore node</c> processes on loopback: the cluster outlives a kill -9 and takes the node back.</summary>
[Collection(NodeClusters.Name)]
public class ClusterProcessTests : IDisposable
{
    private readonly TestFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task A_put_survives_kill_9_of_its_node_and_the_node_rejoins_as_the_same_owner()
    {
        var ports = new[] { ObjectStoreProcess.FreePort(), ObjectStoreProcess.FreePort(), ObjectStoreProcess.FreePort() };
        var seeds = new[] { $"127.0.0.1:{ports[0]}", $"127.0.0.1:{ports[1]}" };
        var data = Enumerable.Range(1, 3).Select(i => _files.PathOf($"n{i}")).ToArray();
        var file = _files.RandomFile("in.bin", 64 * 1024 * 1024, 1);
        var nodes = new ObjectStoreProcess.NodeProcess?[3];
        // The killed incarnation is noticed and removed in ~10 s instead of the defaults' ~30 s (10 s pause, 20 s
        // stable-after): what this test checks is the wait and the rejoin, not how long the defaults take.
        var fast = _files.PathOf("fast.conf");
        File.WriteAllText(fast, """
            akka.cluster.failure-detector.acceptable-heartbeat-pause = 5s
            akka.cluster.split-brain-resolver.stable-after = 5s
            """);
        var none = new Dictionary<string, string>();
        try
        {
            var started = await ObjectStoreProcess.NodeProcess.StartAllAsync(3, i =>
                ObjectStoreProcess.NodeProcess.StartAsync(data[i], none, fast, ports[i], seeds));
            started.CopyTo(nodes, 0);
            var members = await ObjectStoreProcess.UntilAsync(ports[0], "members", r => ObjectStoreProcess.UpCount(r) == 3);
            Assert.True(ObjectStoreProcess.UpCount(members) == 3, $"the three nodes did not form a cluster:\n{members.Stdout}{members.Stderr}");
            var firstId = File.ReadAllText(Path.Combine(data[0], "node-id")).Trim();

            var put = await ObjectStoreProcess.ShellAsync(ports[0], $"put '{file}' photos/big.bin", TimeSpan.FromMinutes(3));
            Assert.True(put.ExitCode == 0, put.Stderr);

            nodes[0]!.KillHard();
            nodes[0]!.Dispose();
            // Restarted at once, while the cluster still lists its dead incarnation: the node must wait until
            // the cluster has removed it before joining (see PreviousIncarnation), and says so.
            // Its seeds are the running nodes: first in its own seed list it would start a cluster of its own.
            var restart = ObjectStoreProcess.NodeProcess.StartAsync(data[0], none, fast, ports[0], $"127.0.0.1:{ports[1]}", $"127.0.0.1:{ports[2]}");
            try
            {
                // Meanwhile node 2 serves the object without node 1.
                var fromSecond = _files.PathOf("from-2.bin");
                var getFromSecond = await ObjectStoreProcess.ShellAsync(ports[1], $"get photos/big.bin '{fromSecond}'", TimeSpan.FromMinutes(3));
                Assert.True(getFromSecond.ExitCode == 0, getFromSecond.Stderr);
                Assert.True(File.ReadAllBytes(file).AsSpan().SequenceEqual(File.ReadAllBytes(fromSecond)), "node 2 returned different bytes");
            }
            finally
            {
                nodes[0] = await restart;
            }
            Assert.Contains("waiting up to 90s for the cluster to remove it before joining", nodes[0]!.Log);
            // The restarted node comes back with its old id; the cluster replaces the killed incarnation with it.
            members = await ObjectStoreProcess.UntilAsync(ports[1], "members", r => ObjectStoreProcess.UpCount(r) == 3 && r.Stdout.Contains(firstId) && r.Stdout.Contains($":{ports[0]} "), seconds: 120);
            Assert.True(ObjectStoreProcess.UpCount(members) == 3 && members.Stdout.Contains(firstId), $"node 1 did not rejoin:\n{members.Stdout}{members.Stderr}\n--- node 1:\n{nodes[0]!.Log}\n--- node 2:\n{nodes[1]!.Log}");
            Assert.Equal(firstId, File.ReadAllText(Path.Combine(data[0], "node-id")).Trim());
            // ... and node 1 sees the others Up too (gossip reaches it a moment later).
            members = await ObjectStoreProcess.UntilAsync(ports[0], "members", r => ObjectStoreProcess.UpCount(r) == 3);
            Assert.True(ObjectStoreProcess.UpCount(members) == 3, $"node 1 does not see the cluster:\n{members.Stdout}{members.Stderr}");

            var fromFirst = _files.PathOf("from-1.bin");
            var get = await ObjectStoreProcess.ShellAsync(ports[0], $"get photos/big.bin '{fromFirst}'", TimeSpan.FromMinutes(3));
            Assert.True(get.ExitCode == 0, get.Stderr);
            Assert.True(File.ReadAllBytes(file).AsSpan().SequenceEqual(File.ReadAllBytes(fromFirst)), "node 1 returned different bytes");
            // Nothing lost: every chunk is still on all three nodes, node 1 included.
            var stat = await ObjectStoreProcess.ShellAsync(ports[0], "stat photos/big.bin");
            Assert.True(stat.ExitCode == 0, stat.Stderr);
            var chunkLines = stat.Stdout.Split('\n').Where(l => l.Contains("node-")).ToList();
            Assert.NotEmpty(chunkLines);
            Assert.All(chunkLines, l => Assert.Equal(3, l.Split(',').Length));
            Assert.All(chunkLines, l => Assert.Contains(firstId, l));
        }
        finally
        {
            foreach (var node in nodes) node?.Dispose();
        }
    }
}
