using System.Diagnostics;
using System.Text.Json;

namespace ObjectStore.Node.Tests;

/// <summary>`objectstore cmd` against real nodes with command hosts: the cluster palette and replication status.</summary>
[Collection(NodeClusters.Name)]
public class CmdProcessTests : IDisposable
{
    private readonly TestFiles _files = new();
    private readonly List<ObjectStoreProcess.NodeProcess> _nodes = [];

    public void Dispose()
    {
        foreach (var node in _nodes) node.Dispose();
        _files.Dispose();
    }

    private static Task<ObjectStoreProcess.Result> Cmd(int cmdPort, params string[] words) =>
        ObjectStoreProcess.RunAsync(TimeSpan.FromMinutes(1), null, ["cmd", $"127.0.0.1:{cmdPort}", .. words]);

    /// <summary>Nodes with command hosts; the first is the seed. A dead node is noticed in 5 s and removed 5 s later.</summary>
    private async Task<(int[] Ports, int[] CmdPorts)> StartClusterAsync(int count)
    {
        var config = _files.PathOf("fast.conf");
        File.WriteAllText(config, """
            akka.cluster.failure-detector.acceptable-heartbeat-pause = 5s
            akka.cluster.split-brain-resolver.stable-after = 5s
            """);
        var ports = Enumerable.Range(0, count).Select(_ => ObjectStoreProcess.FreePort()).ToArray();
        var cmdPorts = Enumerable.Range(0, count).Select(_ => ObjectStoreProcess.FreePort()).ToArray();
        _nodes.AddRange(await ObjectStoreProcess.NodeProcess.StartAllAsync(count, i =>
            ObjectStoreProcess.NodeProcess.StartAsync(_files.PathOf($"n{i}"), new Dictionary<string, string>(), config, ports[i], cmdPorts[i],
                $"127.0.0.1:{ports[0]}")));
        var members = await ObjectStoreProcess.UntilAsync(ports[0], "members", r => ObjectStoreProcess.UpCount(r) == count);
        Assert.True(ObjectStoreProcess.UpCount(members) == count, members.Stdout + members.Stderr);
        return (ports, cmdPorts);
    }

    private static Task<ObjectStoreProcess.Result> CmdUntil(int cmdPort, string[] words, Func<ObjectStoreProcess.Result, bool> done) =>
        ObjectStoreProcess.UntilAsync(() => Cmd(cmdPort, words), done, seconds: 60);

    [Fact]
    public async Task Cluster_show_lists_every_member_of_three_names_the_answering_node_and_parses_as_json()
    {
        var (ports, cmdPorts) = await StartClusterAsync(3);

        // Node 2 may see the last join a gossip round after node 1 does.
        var show = await CmdUntil(cmdPorts[1], ["cluster", "show"], r => r.Stdout.Split('\n').Count(l => l.Contains("\tUp\treachable")) == 3);
        var json = await Cmd(cmdPorts[1], "--json", "cluster", "show");

        Assert.True(show.ExitCode == 0, show.Stderr);
        foreach (var port in ports) Assert.Contains($"akka.tcp://objectstore@127.0.0.1:{port}\tUp\treachable", show.Stdout);
        Assert.Contains($"# answered by {File.ReadAllText(_files.PathOf("n1/node-id")).Trim()}", show.Stderr);
        using var document = JsonDocument.Parse(json.Stdout);
        var rows = document.RootElement.GetProperty("results")[0].EnumerateArray().ToList();
        Assert.Equal(3, rows.Count);
        Assert.All(rows, r => Assert.Equal("Up", r.GetProperty("status").GetString()));
        Assert.Contains(File.ReadAllText(_files.PathOf("n1/node-id")).Trim(), document.RootElement.GetProperty("node").GetString());
    }

    [Fact]
    public async Task Cluster_tail_prints_a_member_joining()
    {
        var (ports, cmdPorts) = await StartClusterAsync(1);
        using var tail = Process.Start(ObjectStoreProcess.StartInfo("cmd", $"127.0.0.1:{cmdPorts[0]}", "cluster", "tail"))!;
        var lines = new List<string>();
        var joined = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        tail.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (lines) lines.Add(e.Data);
            if (lines.Count(l => l.Contains("member up")) >= 2) joined.TrySetResult();
        };
        tail.BeginOutputReadLine();
        try
        {
            // The tail starts with the current state (the seed Up); then a second node joins.
            _nodes.Add(await ObjectStoreProcess.NodeProcess.StartAsync(_files.PathOf("joiner"), new Dictionary<string, string>(), null, 0, 0,
                $"127.0.0.1:{ports[0]}"));
            await joined.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            tail.Kill(entireProcessTree: true);
            tail.WaitForExit(10_000);
        }
        lock (lines) Assert.Contains(lines, l => l.Contains("member up") && l.Contains(File.ReadAllText(_files.PathOf("joiner/node-id")).Trim()));
    }

    [Fact]
    public async Task Cluster_leave_makes_a_member_leave_its_process_exit_and_the_others_show_it_gone()
    {
        var (ports, cmdPorts) = await StartClusterAsync(3);

        var leave = await Cmd(cmdPorts[0], "cluster", "leave", $"127.0.0.1:{ports[2]}");

        Assert.True(leave.ExitCode == 0, leave.Stderr);
        Assert.True(_nodes[2].WaitForExit(TimeSpan.FromSeconds(60)), "the member that left did not exit");
        var show = await CmdUntil(cmdPorts[1], ["cluster", "show"], r => !r.Stdout.Contains($":{ports[2]}"));
        Assert.DoesNotContain($":{ports[2]}", show.Stdout);
        Assert.Contains($":{ports[0]}\tUp", show.Stdout);
        Assert.Contains($":{ports[1]}\tUp", show.Stdout);
    }

    [Fact]
    public async Task Replication_status_after_one_of_three_nodes_is_killed_shows_chunks_short_of_copies()
    {
        var (ports, cmdPorts) = await StartClusterAsync(3);
        var tree = _files.PathOf("tree");
        for (var i = 0; i < 4; i++) _files.RandomFile($"tree/f{i}.bin", 300_000 + i * 100_000, i);
        var put = await ObjectStoreProcess.ShellAsync(ports[0], $"put -r '{tree}' docs/tree");
        Assert.True(put.ExitCode == 0, put.Stderr);
        var before = await Cmd(cmdPorts[0], "--json", "replication", "status");
        Assert.Equal(0, ShortChunks(before));

        _nodes[2].KillHard();

        var after = await CmdUntil(cmdPorts[0], ["--json", "replication", "status"], r => ShortChunks(r) > 0);
        Assert.True(ShortChunks(after) > 0, after.Stdout + after.Stderr);
        using var document = JsonDocument.Parse(after.Stdout);
        var fields = document.RootElement.GetProperty("results")[0];
        Assert.Equal(fields.GetProperty("chunksHeld").GetInt64(), fields.GetProperty("chunksShortOfCopies").GetInt64()); // 3 nodes, factor 3: every chunk
    }

    private static long ShortChunks(ObjectStoreProcess.Result status)
    {
        if (status.ExitCode != 0) return -1;
        using var document = JsonDocument.Parse(status.Stdout);
        return document.RootElement.GetProperty("results")[0].GetProperty("chunksShortOfCopies").GetInt64();
    }

    [Fact]
    public async Task The_prompt_on_a_terminal_completes_a_palette_with_Tab_shows_help_runs_a_command_and_exits()
    {
        // util-linux's `script` gives the client a pseudo-terminal and passes our keystrokes to it.
        Assert.True(File.Exists("/usr/bin/script"), "this test needs /usr/bin/script (util-linux) for a pseudo-terminal");
        var cmdPort = ObjectStoreProcess.FreePort();
        var node = await ObjectStoreProcess.NodeProcess.StartAsync(_files.PathOf("n"), new Dictionary<string, string>(), null, 0, cmdPort);
        _nodes.Add(node);
        var info = new ProcessStartInfo("/usr/bin/script")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var arg in new[] { "-qfec", $"dotnet '{ObjectStoreProcess.Dll}' cmd 127.0.0.1:{cmdPort}", "/dev/null" }) info.ArgumentList.Add(arg);
        info.Environment["TERM"] = "xterm";
        using var terminal = Process.Start(info)!;
        var screen = new System.Text.StringBuilder();
        var reader = Task.Run(async () =>
        {
            var buffer = new char[4096];
            int read;
            while ((read = await terminal.StandardOutput.ReadAsync(buffer)) > 0) lock (screen) screen.Append(buffer, 0, read);
        });
        async Task Until(string text, string step)
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (DateTime.UtcNow < deadline)
            {
                lock (screen) if (screen.ToString().Contains(text)) return;
                await Task.Delay(50);
            }
            lock (screen) Assert.Fail($"{step}: '{text}' did not appear; the screen:\n{screen}");
        }
        try
        {
            await Until("objectstore cmd>", "prompt");
            await terminal.StandardInput.WriteAsync("clu\t");
            await terminal.StandardInput.FlushAsync();
            await Until("objectstore cmd> cluster ", "Tab completion of the palette");
            await terminal.StandardInput.WriteAsync("show\r");
            await terminal.StandardInput.FlushAsync();
            await Until($"127.0.0.1:{node.Port}", "cluster show");
            await terminal.StandardInput.WriteAsync("help\r");
            await terminal.StandardInput.FlushAsync();
            await Until("replication — copies and their repair", "help");
            await terminal.StandardInput.WriteAsync("exit\r");
            await terminal.StandardInput.FlushAsync();
            Assert.True(terminal.WaitForExit(30_000), "the client did not exit");
            Assert.Equal(0, terminal.ExitCode);
        }
        finally
        {
            if (!terminal.HasExited) terminal.Kill(entireProcessTree: true);
        }
    }
}
