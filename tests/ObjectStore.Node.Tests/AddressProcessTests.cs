namespace ObjectStore.Node.Tests;

/// <summary>
/// How nodes and shells find each other as an operator types it: --seed over a config file's seeds,
/// seeds that never answer, localhost for 127.0.0.1, fixed ports for a local cluster.
/// </summary>
[Collection(NodeClusters.Name)]
public class AddressProcessTests : IDisposable
{
    private readonly TestFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task Seed_on_the_command_line_replaces_the_seeds_of_the_config_file_and_the_node_joins()
    {
        var deadPort = ObjectStoreProcess.FreePort();
        var config = _files.PathOf("member.conf");
        File.WriteAllText(config, $"akka.cluster.seed-nodes = [\"akka.tcp://objectstore@127.0.0.1:{deadPort}\"]\n");
        var seedPort = ObjectStoreProcess.FreePort();
        using var seed = await ObjectStoreProcess.NodeProcess.StartAsync(_files.PathOf("seed"), seedPort, $"127.0.0.1:{seedPort}");

        using var member = await ObjectStoreProcess.NodeProcess.StartAsync(_files.PathOf("member"), new Dictionary<string, string>(), config, 0,
            $"127.0.0.1:{seedPort}");

        var members = await ObjectStoreProcess.UntilAsync(member.Port, "members", r => ObjectStoreProcess.UpCount(r) == 2, seconds: 60);
        Assert.Equal(2, ObjectStoreProcess.UpCount(members));
        Assert.DoesNotContain("not a member of a cluster", members.Stdout);
        Assert.DoesNotContain($":{deadPort}", member.Log);
    }

    [Fact]
    public async Task A_node_whose_seeds_do_not_answer_says_so_on_stderr_and_in_members_and_status_and_refuses_puts()
    {
        var deadPort = ObjectStoreProcess.FreePort();
        using var node = await ObjectStoreProcess.NodeProcess.StartAsync(_files.PathOf("alone"), 0, $"127.0.0.1:{deadPort}");
        var file = _files.RandomFile("in.bin", 10_000, 1);

        var members = await ObjectStoreProcess.ShellAsync(node.Port, "members");
        var status = await ObjectStoreProcess.ShellAsync(node.Port, "status");
        var put = await ObjectStoreProcess.ShellAsync(node.Port, $"put '{file}' alone/in.bin");
        var ls = await ObjectStoreProcess.ShellAsync(node.Port, "ls");

        var notice = $"this node is not a member of a cluster yet: none of its seeds (127.0.0.1:{deadPort})";
        Assert.True(members.ExitCode == 0, members.Stderr);
        Assert.Contains(notice, members.Stdout);
        Assert.Contains(notice, status.Stdout);
        Assert.Equal(1, put.ExitCode);
        Assert.Contains("the write quorum is 2", put.Stderr);
        Assert.DoesNotContain("alone", ls.Stdout);
        // The node says it every 5 s on its own log (stderr).
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!node.Log.Contains(notice) && DateTime.UtcNow < deadline) await Task.Delay(200);
        Assert.Contains(notice, node.Log);
    }

    [Fact]
    public async Task Localhost_works_for_seeds_and_for_the_shell_of_nodes_that_advertise_127_0_0_1()
    {
        var seedPort = ObjectStoreProcess.FreePort();
        using var seed = await ObjectStoreProcess.NodeProcess.StartAsync(_files.PathOf("seed"), seedPort, $"localhost:{seedPort}");
        using var member = await ObjectStoreProcess.NodeProcess.StartAsync(_files.PathOf("member"), 0, $"localhost:{seedPort}");
        await ObjectStoreProcess.UntilAsync(member.Port, "members", r => ObjectStoreProcess.UpCount(r) == 2, seconds: 60);

        var members = await ObjectStoreProcess.RunAsync(TimeSpan.FromMinutes(1), null, "shell", "--node", $"localhost:{member.Port}", "-c", "members");

        Assert.True(members.ExitCode == 0, members.Stderr);
        Assert.Equal(2, ObjectStoreProcess.UpCount(members));
        Assert.Contains($"127.0.0.1:{seedPort}", members.Stdout);
    }

    [Fact]
    public async Task Local_with_a_port_listens_on_that_port_and_the_next_ones()
    {
        var first = ObjectStoreProcess.ConsecutiveFreePorts(3);

        var run = await ObjectStoreProcess.RunAsync(TimeSpan.FromMinutes(2), null,
            "local", "--data", _files.PathOf("local"), "--port", first.ToString(), "-c", "members");

        Assert.True(run.ExitCode == 0, run.Stderr);
        for (var port = first; port < first + 3; port++)
        {
            Assert.Contains($"on 127.0.0.1:{port},", run.Stdout);
            Assert.Contains($"akka.tcp://objectstore@127.0.0.1:{port} ", run.Stdout);
        }
        Assert.Equal(3, ObjectStoreProcess.UpCount(run));
    }
}
