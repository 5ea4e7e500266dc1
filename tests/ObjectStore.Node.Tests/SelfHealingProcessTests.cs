using Xunit.Abstractions;
using System.Diagnostics;
using System.Text.Json;

namespace ObjectStore.Node.Tests;

/// <summary>
/// Self-healing with real node processes: a node killed with kill -9 is healed around with no operator
/// command, a frozen node does not hold a put up, the repair queue outlives kill -9, and a put's word
/// matches what the cluster holds.
/// </summary>
[Collection(NodeClusters.Name)]
public class SelfHealingProcessTests(ITestOutputHelper output) : IDisposable
{
    private readonly TestFiles _files = new();
    private readonly List<ObjectStoreProcess.NodeProcess> _nodes = [];

    public void Dispose()
    {
        foreach (var node in _nodes) node.Dispose();
        _files.Dispose();
    }

    /// <summary>A dead node is noticed after 5 s and downed 5 s later (production: 10 s and 20 s), so a test waits seconds, not a minute.</summary>
    private string FastFailover(string extra = "") => WriteConfig("fast.conf", $$"""
        akka.cluster.failure-detector.acceptable-heartbeat-pause = 5s
        akka.cluster.split-brain-resolver.stable-after = 5s
        objectstore.repair.anti-entropy-settle = 500ms
        {{extra}}
        """);

    private string WriteConfig(string name, string text)
    {
        var path = _files.PathOf(name);
        File.WriteAllText(path, text);
        return path;
    }

    private async Task<(int[] Ports, string[] Data)> StartClusterAsync(int count, string? config = null)
    {
        var ports = Enumerable.Range(0, count).Select(_ => ObjectStoreProcess.FreePort()).ToArray();
        var data = Enumerable.Range(1, count).Select(i => _files.PathOf($"n{i}")).ToArray();
        var seeds = new[] { $"127.0.0.1:{ports[0]}" };
        _nodes.AddRange(await ObjectStoreProcess.NodeProcess.StartAllAsync(count, i =>
            ObjectStoreProcess.NodeProcess.StartAsync(data[i], new Dictionary<string, string>(), config, ports[i], seeds)));
        var members = await ObjectStoreProcess.UntilAsync(ports[0], "members", r => ObjectStoreProcess.UpCount(r) == count);
        Assert.True(ObjectStoreProcess.UpCount(members) == count, $"the nodes did not form a cluster:\n{members.Stdout}{members.Stderr}");
        return (ports, data);
    }

    /// <summary>Every node's output, for a failure message.</summary>
    private string Logs() => string.Join("\n", _nodes.Select((n, i) => $"--- node {i + 1}:\n{n.Log}"));

    /// <summary>`status --json` from a node: the copies queued on every node, or -1 when the status did not come.</summary>
    private static long CopiesQueued(ObjectStoreProcess.Result status)
    {
        if (status.ExitCode != 0) return -1;
        using var json = JsonDocument.Parse(status.Stdout);
        return json.RootElement.GetProperty("copiesQueued").GetInt64();
    }

    /// <summary>The chunk lines of `stat`, each listing its holders.</summary>
    private static List<string> ChunkLines(ObjectStoreProcess.Result stat) => stat.Stdout.Split('\n').Where(l => l.Contains("node-")).ToList();

    [Fact]
    public async Task A_node_killed_with_kill_9_is_healed_around_with_no_operator_command()
    {
        var (ports, data) = await StartClusterAsync(4, FastFailover());
        var tree = _files.PathOf("tree");
        for (var i = 0; i < 12; i++) _files.RandomFile($"tree/d{i % 3}/f{i}.bin", 50_000 + i * 40_000, i);
        var big = _files.RandomFile("big.bin", 24 * 1024 * 1024, 99);
        var put = await ObjectStoreProcess.ShellAsync(ports[0], $"put -r '{tree}' docs/tree; put '{big}' docs/big.bin", TimeSpan.FromMinutes(3));
        Assert.True(put.ExitCode == 0, put.Stderr + Logs());
        var deadId = File.ReadAllText(Path.Combine(data[3], "node-id")).Trim();

        var killed = Stopwatch.StartNew();
        _nodes[3].KillHard();

        // Removed by the cluster (3 s to notice, 4 s to decide), then every copy it held is made again elsewhere.
        var healed = await ObjectStoreProcess.UntilAsync(ports[0], "stat docs/big.bin", r =>
            r.ExitCode == 0 && ChunkLines(r).All(l => l.Split(',').Length == 3 && !l.Contains(deadId)), seconds: 120);
        Assert.True(ChunkLines(healed).All(l => l.Split(',').Length == 3 && !l.Contains(deadId)), $"not healed:\n{healed.Stdout}{healed.Stderr}");
        var quiet = await ObjectStoreProcess.UntilAsync(ports[1], "status --json", r => CopiesQueued(r) == 0, seconds: 60);
        Assert.Equal(0, CopiesQueued(quiet));
        var elapsed = killed.Elapsed;
        // Every survivor asked about the files of its third of the tree, in one shell each.
        for (var node = 0; node < 3; node++)
        {
            var files = Enumerable.Range(0, 12).Where(i => i % 3 == node).ToList();
            var stat = await ObjectStoreProcess.ShellAsync(ports[node], string.Join("; ", files.Select(i => $"stat docs/tree/d{i % 3}/f{i}.bin")));
            Assert.True(stat.ExitCode == 0, stat.Stderr + Logs());
            Assert.All(files, i => Assert.Contains($"docs/tree/d{i % 3}/f{i}.bin", stat.Stdout));
            Assert.All(ChunkLines(stat), l => Assert.True(l.Split(',').Length == 3 && !l.Contains(deadId), l));
        }
        var back = _files.PathOf("back");
        var get = await ObjectStoreProcess.ShellAsync(ports[2], $"get -r docs/tree '{back}'; get docs/big.bin '{back}/big.bin'", TimeSpan.FromMinutes(3));
        Assert.True(get.ExitCode == 0, get.Stderr + Logs());
        Assert.True(File.ReadAllBytes(big).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(back, "big.bin"))));
        File.Delete(Path.Combine(back, "big.bin"));
        TestFiles.AssertSameTree(tree, back);
        Assert.True(elapsed < TimeSpan.FromSeconds(150), $"healing took {elapsed}");
    }

    [Fact]
    public async Task A_node_frozen_during_a_256_MiB_put_does_not_hold_it_up_and_gets_its_copies_once_it_thaws()
    {
        // Production failure detection (10 s, then 20 s before downing): frozen for less, as a long pause would be.
        var (ports, data) = await StartClusterAsync(3);
        var file = _files.RandomFile("in.bin", 256 * 1024 * 1024, 7);
        var frozenId = File.ReadAllText(Path.Combine(data[2], "node-id")).Trim();

        var clock = Stopwatch.StartNew();
        var putting = ObjectStoreProcess.ShellAsync(ports[0], $"put '{file}' big/frozen.bin", TimeSpan.FromMinutes(3));
        // Frozen once the put is under way (the shell starts in about half a second), thawed once it is answered.
        await Task.Delay(1500);
        _nodes[2].Signal("STOP");
        var frozenAt = clock.Elapsed;
        var put = await putting;
        var putTime = clock.Elapsed;
        _nodes[2].Signal("CONT");

        Assert.True(put.ExitCode == 0, put.Stderr + Logs());
        // Queued, unless the frozen node had every chunk before it froze (a machine much faster than this one).
        Assert.Matches("stored on (2 of 3 nodes; 1 copy queued|3 of 3 nodes)", put.Stdout);
        Assert.True(putTime - frozenAt < TimeSpan.FromSeconds(15), $"the put waited {putTime - frozenAt} for the frozen node");
        var healed = await ObjectStoreProcess.UntilAsync(ports[0], "stat big/frozen.bin", r =>
            r.ExitCode == 0 && ChunkLines(r).All(l => l.Split(',').Length == 3 && l.Contains(frozenId)), seconds: 90);
        Assert.True(ChunkLines(healed).All(l => l.Split(',').Length == 3), $"the thawed node did not get its copies:\n{healed.Stdout}");
        var quiet = await ObjectStoreProcess.UntilAsync(ports[0], "status --json", r => CopiesQueued(r) == 0, seconds: 60);
        Assert.Equal(0, CopiesQueued(quiet));
    }

    [Fact]
    public async Task The_repair_queue_outlives_kill_9_of_its_node_and_is_worked_off_once_nodes_join()
    {
        // One node that promises three copies and takes a put at one (quorum 1): two copies wait for nodes to exist.
        var config = WriteConfig("one.conf", """
            objectstore.replication.factor = 3
            objectstore.replication.write-quorum = 1
            objectstore.repair.anti-entropy-settle = 500ms
            """);
        var port = ObjectStoreProcess.FreePort();
        var data = _files.PathOf("n1");
        _nodes.Add(await ObjectStoreProcess.NodeProcess.StartAsync(data, new Dictionary<string, string>(), config, port, $"127.0.0.1:{port}"));
        var file = _files.RandomFile("in.bin", 3 * 1024 * 1024, 8);
        var put = await ObjectStoreProcess.ShellAsync(port, $"put '{file}' queue/x.bin");
        Assert.True(put.ExitCode == 0, put.Stderr + Logs());
        Assert.Contains("stored on 1 of 3 nodes; 2 copies queued", put.Stdout);

        _nodes[0].KillHard();
        _nodes[0] = await ObjectStoreProcess.NodeProcess.StartAsync(data, new Dictionary<string, string>(), config, port, $"127.0.0.1:{port}");
        var status = await ObjectStoreProcess.UntilAsync(port, "status --json", r => r.ExitCode == 0);
        Assert.True(CopiesQueued(status) >= 1, $"the queue did not survive the restart:\n{status.Stdout}{status.Stderr}");

        _nodes.AddRange(await ObjectStoreProcess.NodeProcess.StartAllAsync(2, i =>
            ObjectStoreProcess.NodeProcess.StartAsync(_files.PathOf($"n{i + 2}"), new Dictionary<string, string>(), config, 0, $"127.0.0.1:{port}")));
        var healed = await ObjectStoreProcess.UntilAsync(port, "stat queue/x.bin", r => r.ExitCode == 0 && ChunkLines(r).All(l => l.Split(',').Length == 3), seconds: 90);
        Assert.True(ChunkLines(healed).All(l => l.Split(',').Length == 3), $"the queued copies were not made:\n{healed.Stdout}");
        var quiet = await ObjectStoreProcess.UntilAsync(port, "status --json", r => CopiesQueued(r) == 0, seconds: 60);
        Assert.Equal(0, CopiesQueued(quiet));
    }

    /// <summary>Tries of kill -9 and put (OBJECTSTORE_HONEST_TRIES, default 2; the issue's 20 are run by hand, see docs/BENCHMARKS.md).</summary>
    private static int HonestTries => int.TryParse(Environment.GetEnvironmentVariable("OBJECTSTORE_HONEST_TRIES"), out var n) && n > 0 ? n : 2;

    [Fact]
    public async Task A_put_right_after_a_kill_says_what_happened_and_with_two_of_three_stopped_it_fails_on_the_quorum()
    {
        var config = FastFailover();
        var (ports, data) = await StartClusterAsync(4, config);
        var outcomes = new List<string>();
        for (var attempt = 0; attempt < HonestTries; attempt++)
        {
            // Each kill once the cluster has its four members again: two failures within the split-brain
            // resolver's stable-after make it down every node (down-all-when-unstable).
            var settled = await ObjectStoreProcess.UntilAsync(ports[0], "members", r => ObjectStoreProcess.UpCount(r) == 4 && r.Stdout.Split('\n').Count(l => l.Contains("akka.tcp")) == 4, seconds: 90);
            Assert.True(ObjectStoreProcess.UpCount(settled) == 4, settled.Stdout + Logs());
            var victim = 1 + attempt % 3;
            _nodes[victim].KillHard();
            var file = _files.RandomFile($"try{attempt}.bin", 4 * 1024 * 1024, 20 + attempt);
            var put = await ObjectStoreProcess.ShellAsync(ports[0], $"put '{file}' honest/try{attempt}.bin", TimeSpan.FromMinutes(2));
            var ls = await ObjectStoreProcess.ShellAsync(ports[0], "ls honest");
            Assert.True(ls.ExitCode == 0, ls.Stderr + Logs());
            var listed = ls.Stdout.Contains($"try{attempt}.bin");
            if (put.ExitCode == 0)
            {
                Assert.Matches("stored on [23] of 3 nodes", put.Stdout);
                Assert.True(listed, $"try {attempt}: the put said {put.Stdout} but ls does not list it");
                outcomes.Add(put.Stdout.Contains("stored on 3 of 3") ? "3 of 3" : "2 of 3, 1 queued");
            }
            else if (put.Stderr.Contains("nothing was stored"))
            {
                Assert.False(listed, $"try {attempt}: the put said nothing was stored but ls lists it");
                outcomes.Add("failed, nothing stored");
            }
            else
            {
                Assert.Contains("may or may not have completed", put.Stderr); // and says how to check
                outcomes.Add("outcome unknown");
            }
            _nodes[victim].Dispose();
            _nodes[victim] = await ObjectStoreProcess.NodeProcess.StartAsync(data[victim], new Dictionary<string, string>(), config, ports[victim],
                $"127.0.0.1:{ports[0]}");
        }
        output.WriteLine($"kill -9 then put, {HonestTries} tries: {string.Join(", ", outcomes.GroupBy(o => o).Select(g => $"{g.Count()} x {g.Key}"))}");

        // Two of three stopped cleanly (Ctrl+C) once the cluster is whole: one node cannot make the quorum of two.
        var whole = await ObjectStoreProcess.UntilAsync(ports[0], "members", r => ObjectStoreProcess.UpCount(r) == 4 && r.Stdout.Split('\n').Count(l => l.Contains("akka.tcp")) == 4, seconds: 90);
        Assert.True(ObjectStoreProcess.UpCount(whole) == 4, whole.Stdout + Logs());
        _nodes[3].Signal("TERM");
        Assert.True(_nodes[3].WaitForExit(TimeSpan.FromSeconds(60)));
        var three = await ObjectStoreProcess.UntilAsync(ports[0], "members", r => r.Stdout.Split('\n').Count(l => l.Contains("akka.tcp")) == 3, seconds: 60);
        Assert.True(ObjectStoreProcess.UpCount(three) == 3, three.Stdout + Logs());
        _nodes[1].Signal("TERM");
        _nodes[2].Signal("TERM");
        Assert.True(_nodes[1].WaitForExit(TimeSpan.FromSeconds(60)) && _nodes[2].WaitForExit(TimeSpan.FromSeconds(60)));
        var alone = _files.RandomFile("alone.bin", 1024 * 1024, 30);
        var refused = await ObjectStoreProcess.UntilAsync(ports[0], $"put '{alone}' honest/alone.bin", r => r.ExitCode != 0, seconds: 30);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.True(refused.Stderr.Contains("write quorum is 2"), refused.Stderr + Logs());
        Assert.Contains("nothing was stored", refused.Stderr);
        var after = await ObjectStoreProcess.ShellAsync(ports[0], "ls honest");
        Assert.DoesNotContain("alone.bin", after.Stdout);
    }
}
