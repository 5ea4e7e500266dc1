
namespace ObjectStore.Node.Tests;

/// <summary>
/// A rolling upgrade: a node of this version and a node whose every protocol message carries a field this
/// version does not declare (as a newer version's would; OBJECTSTORE_TEST_WIRE_EXTRA_FIELD) form one
/// cluster, replicate puts both ways and serve each other's objects.
/// </summary>
[Collection(NodeClusters.Name)]
public class MixedVersionTests : IDisposable
{
    private readonly TestFiles _files = new();

    public void Dispose() => _files.Dispose();

    private static readonly IReadOnlyDictionary<string, string> Newer = new Dictionary<string, string> { ["OBJECTSTORE_TEST_WIRE_EXTRA_FIELD"] = "1" };
    private static readonly IReadOnlyDictionary<string, string> Today = new Dictionary<string, string>();

    [Fact]
    public async Task A_node_with_a_newer_protocol_and_a_node_of_today_replicate_both_ways_and_serve_gets()
    {
        var (newerPort, todayPort) = (ObjectStoreProcess.FreePort(), ObjectStoreProcess.FreePort());
        using var newer = await ObjectStoreProcess.NodeProcess.StartAsync(_files.PathOf("newer"), Newer, newerPort, $"127.0.0.1:{newerPort}");
        using var today = await ObjectStoreProcess.NodeProcess.StartAsync(_files.PathOf("today"), Today, todayPort, $"127.0.0.1:{newerPort}");
        // Both nodes must see both Up: the puts below go through each of them.
        foreach (var (port, env) in new[] { (todayPort, Today), (newerPort, Newer) })
        {
            var members = await ObjectStoreProcess.UntilAsync(() => ObjectStoreProcess.ShellAsync(port, "members", env),
                r => ObjectStoreProcess.UpCount(r) == 2, seconds: 60);
            Assert.True(ObjectStoreProcess.UpCount(members) == 2, $"no cluster of two:\n{members.Stdout}{members.Stderr}\n{newer.Log}\n{today.Log}");
        }

        // A put through each node (its shell of the same version); with two nodes every chunk goes to both.
        var fromNewer = _files.RandomFile("from-newer.bin", 6 * 1024 * 1024, 1);
        var fromToday = _files.RandomFile("from-today.bin", 6 * 1024 * 1024, 2);
        var small = _files.RandomFile("small.bin", 10_000, 3);
        var put = await ObjectStoreProcess.ShellAsync(newerPort, $"put '{fromNewer}' mixed/a; put '{small}' mixed/small", Newer);
        Assert.True(put.ExitCode == 0, put.Stderr + newer.Log);
        put = await ObjectStoreProcess.ShellAsync(todayPort, $"put '{fromToday}' mixed/b", Today);
        Assert.True(put.ExitCode == 0, put.Stderr + today.Log);

        // Each object is on both nodes, and each node serves the object the other took.
        foreach (var (port, env) in new[] { (newerPort, Newer), (todayPort, Today) })
        {
            var stat = await ObjectStoreProcess.ShellAsync(port, "stat mixed/a; stat mixed/b", env);
            Assert.True(stat.ExitCode == 0, stat.Stderr);
            var chunkLines = stat.Stdout.Split('\n').Where(l => l.Contains("node-")).ToList();
            Assert.NotEmpty(chunkLines);
            Assert.All(chunkLines, l => Assert.Equal(2, l.Split(',').Length));
        }
        var outA = _files.PathOf("out-a.bin");
        var outB = _files.PathOf("out-b.bin");
        var outSmall = _files.PathOf("out-small.bin");
        var get = await ObjectStoreProcess.ShellAsync(todayPort, $"get mixed/a '{outA}'; get mixed/small '{outSmall}'", Today);
        Assert.True(get.ExitCode == 0, get.Stderr);
        get = await ObjectStoreProcess.ShellAsync(newerPort, $"get mixed/b '{outB}'", Newer);
        Assert.True(get.ExitCode == 0, get.Stderr);
        Assert.True(File.ReadAllBytes(fromNewer).AsSpan().SequenceEqual(File.ReadAllBytes(outA)), "mixed/a differs");
        Assert.True(File.ReadAllBytes(fromToday).AsSpan().SequenceEqual(File.ReadAllBytes(outB)), "mixed/b differs");
        Assert.True(File.ReadAllBytes(small).AsSpan().SequenceEqual(File.ReadAllBytes(outSmall)), "mixed/small differs");
        // Neither node refused a message it could not read.
        Assert.DoesNotContain("SerializationException", newer.Log + today.Log);
        Assert.DoesNotContain("malformed", newer.Log + today.Log);
    }
}
