namespace ObjectStore.Node.Tests;

/// <summary>`objectstore node --gateway`: a member that owns and holds nothing, through which shells put and get.</summary>
[Collection(NodeClusters.Name)]
public class GatewayProcessTests : IDisposable
{
    private readonly TestFiles _files = new();
    private readonly List<ObjectStoreProcess.NodeProcess> _nodes = [];

    public void Dispose()
    {
        foreach (var node in _nodes) node.Dispose();
        _files.Dispose();
    }

    [Fact]
    public async Task A_put_and_get_through_a_gateway_store_every_copy_on_the_storage_nodes_and_none_on_the_gateway()
    {
        var ports = Enumerable.Range(0, 3).Select(_ => ObjectStoreProcess.FreePort()).ToArray();
        _nodes.AddRange(await ObjectStoreProcess.NodeProcess.StartAllAsync(4, i => i < 3
            ? ObjectStoreProcess.NodeProcess.StartAsync(_files.PathOf($"n{i}"), new Dictionary<string, string>(), null, ports[i], 0, $"127.0.0.1:{ports[0]}")
            : ObjectStoreProcess.NodeProcess.StartAsync(_files.PathOf("gateway"), new Dictionary<string, string>(), null, 0, 0, ["--gateway"], $"127.0.0.1:{ports[0]}")));
        var gateway = _nodes[3];
        var members = await ObjectStoreProcess.UntilAsync(gateway.Port, "members", r => ObjectStoreProcess.UpCount(r) == 4);
        Assert.Equal(4, ObjectStoreProcess.UpCount(members));
        Assert.Contains(members.Stdout.Split('\n'), l => l.Contains($":{gateway.Port} ") && l.Contains(" gateway "));
        var storageIds = Enumerable.Range(0, 3).Select(i => File.ReadAllText(_files.PathOf($"n{i}/node-id")).Trim()).Order().ToList();
        var file = _files.RandomFile("big.bin", 6 * 1024 * 1024, 9);

        var put = await ObjectStoreProcess.ShellAsync(gateway.Port, $"put '{file}' gated/big.bin; stat gated/big.bin; get gated/big.bin '{_files.PathOf("back.bin")}'");

        Assert.True(put.ExitCode == 0, put.Stderr + gateway.Log);
        Assert.Contains("(stored on 3 of 3 nodes)", put.Stdout);
        var holders = put.Stdout.Split('\n').Where(l => l.Contains("node-")).Select(l => l.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1]).ToList();
        Assert.NotEmpty(holders);
        Assert.All(holders, h => Assert.Equal(storageIds, h.Split(',').Order().ToList()));
        Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(_files.PathOf("back.bin")));
        var gatewayChunks = Path.Combine(_files.PathOf("gateway"), "chunks");
        Assert.Empty(Directory.Exists(gatewayChunks) ? Directory.GetFiles(gatewayChunks, "*", SearchOption.AllDirectories) : []);
    }
}
