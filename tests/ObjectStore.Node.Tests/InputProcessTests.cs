using System.Diagnostics;

namespace ObjectStore.Node.Tests;

/// <summary>
/// What a user puts in and gets back, through the real executables: FIFOs and stdin, file modes and
/// modification times, and Ctrl+C during a put.
/// </summary>
[Collection(NodeClusters.Name)]
public class InputProcessTests : IDisposable
{
    private readonly TestFiles _files = new();
    private readonly List<ObjectStoreProcess.NodeProcess> _nodes = [];

    public void Dispose()
    {
        foreach (var node in _nodes) node.Dispose();
        _files.Dispose();
    }

    private async Task<int> StartNodeAsync()
    {
        var node = await ObjectStoreProcess.NodeProcess.StartAsync(_files.PathOf("node"));
        _nodes.Add(node);
        return node.Port;
    }

    private static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", [path]) { UseShellExecute = false })!;
        Assert.True(mkfifo.WaitForExit(10_000) && mkfifo.ExitCode == 0, "mkfifo failed");
    }

    [Fact]
    public async Task A_FIFO_without_a_writer_ends_with_an_error_in_bounded_time_and_one_with_a_writer_is_stored_whole()
    {
        var port = await StartNodeAsync();
        var fifo = _files.PathOf("pipe");
        MakeFifo(fifo);
        var config = _files.PathOf("idle.conf");
        File.WriteAllText(config, "objectstore.transfer.idle-timeout = 2s\n");

        var lonely = await ObjectStoreProcess.RunAsync(TimeSpan.FromSeconds(60), null,
            "shell", "--node", $"127.0.0.1:{port}", "--config", config, "-c", $"put '{fifo}' pipes/none");

        Assert.Equal(1, lonely.ExitCode);
        Assert.Contains("no writer opened it within 2s", lonely.Stderr);
        var ls = await ObjectStoreProcess.ShellAsync(port, "ls");
        Assert.Contains("(no buckets)", ls.Stdout);

        // 100 kB: more than a pipe's buffer, which is what made the old put hang.
        var data = new byte[100_000];
        new Random(5).NextBytes(data);
        var writer = Task.Run(() =>
        {
            using var pipe = new FileStream(fifo, FileMode.Open, FileAccess.Write);
            pipe.Write(data);
        });
        var put = await ObjectStoreProcess.ShellAsync(port, $"put '{fifo}' pipes/some; get pipes/some '{_files.PathOf("back")}'", TimeSpan.FromSeconds(60));
        await writer.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(put.ExitCode == 0, put.Stderr);
        Assert.Equal(data, File.ReadAllBytes(_files.PathOf("back")));
    }

    [Fact]
    public async Task Stdin_is_stored_with_put_dash()
    {
        var port = await StartNodeAsync();
        var text = string.Concat(Enumerable.Repeat("a line of stdin\n", 20_000));

        var put = await ObjectStoreProcess.RunAsync(TimeSpan.FromSeconds(60), text,
            "shell", "--node", $"127.0.0.1:{port}", "-c", $"put - piped/stdin.txt; get piped/stdin.txt '{_files.PathOf("back.txt")}'");

        Assert.True(put.ExitCode == 0, put.Stderr);
        Assert.Equal(text, File.ReadAllText(_files.PathOf("back.txt")));
    }

    [Fact]
    public async Task Put_r_and_get_r_restore_modes_and_modification_times_as_stat_shows_them()
    {
        var port = await StartNodeAsync();
        var tree = _files.PathOf("tree");
        var script = _files.RandomFile("tree/bin/run.sh", 300, 1);
        var secret = _files.RandomFile("tree/etc/secret.conf", 70_000, 2);
        var plain = _files.RandomFile("tree/data/big.bin", 3_000_000, 3);
        await RunAsync("chmod", "755", script);
        await RunAsync("chmod", "600", secret);
        await RunAsync("touch", "-d", "2019-05-06 07:08:09.123456789", script);
        await RunAsync("touch", "-d", "2001-02-03 04:05:06.5", plain);
        var back = _files.PathOf("back");

        var result = await ObjectStoreProcess.ShellAsync(port, $"put -r '{tree}' keep/tree; get -r keep/tree '{back}'");

        Assert.True(result.ExitCode == 0, result.Stderr);
        foreach (var relative in new[] { "bin/run.sh", "etc/secret.conf", "data/big.bin" })
            Assert.Equal(await RunAsync("stat", "-c", "%a %y %s", Path.Combine(tree, relative)), await RunAsync("stat", "-c", "%a %y %s", Path.Combine(back, relative)));

        var plainGet = await ObjectStoreProcess.ShellAsync(port, $"get --no-preserve keep/tree/bin/run.sh '{_files.PathOf("fresh.sh")}'");
        Assert.True(plainGet.ExitCode == 0, plainGet.Stderr);
        Assert.NotEqual(await RunAsync("stat", "-c", "%y", script), await RunAsync("stat", "-c", "%y", _files.PathOf("fresh.sh")));
    }

    [Fact]
    public async Task Ctrl_C_during_a_256_MiB_put_cancels_it_on_the_node_and_no_node_holds_the_object()
    {
        // Each node stalls its chunk writes after the 20th chunk until a put is cancelled there: the
        // signal surely comes while the put is in flight, whatever the machine's speed.
        var stall = new Dictionary<string, string> { ["OBJECTSTORE_FAILPOINT_STALL_AFTER_CHUNK_WRITES"] = "20" };
        var ports = Enumerable.Range(0, 3).Select(_ => ObjectStoreProcess.FreePort()).ToArray();
        _nodes.AddRange(await ObjectStoreProcess.NodeProcess.StartAllAsync(3, i =>
            ObjectStoreProcess.NodeProcess.StartAsync(_files.PathOf($"n{i}"), stall, null, ports[i], $"127.0.0.1:{ports[0]}")));
        await ObjectStoreProcess.UntilAsync(ports[0], "members", r => ObjectStoreProcess.UpCount(r) == 3);
        var big = _files.RandomFile("big.bin", 256L * 1024 * 1024, 7);

        using var shell = Process.Start(ObjectStoreProcess.StartInfo("shell", "--node", $"127.0.0.1:{ports[0]}", "-c", $"put '{big}' cancel/big.bin"))!;
        var stderr = shell.StandardError.ReadToEndAsync();
        var stdout = shell.StandardOutput.ReadToEndAsync();
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (!_nodes[0].Log.Contains("failpoint: stalling") && DateTime.UtcNow < deadline && !shell.HasExited) await Task.Delay(100);
            Assert.True(_nodes[0].Log.Contains("failpoint: stalling"), $"the put never reached its 20th chunk:\n{_nodes[0].Log}");

            await RunAsync("kill", "-INT", shell.Id.ToString());

            Assert.True(shell.WaitForExit(60_000), $"the shell did not end after Ctrl+C; node 1's log ends:\n{string.Join('\n', _nodes[0].Log.Split('\n').TakeLast(30))}");
        }
        finally
        {
            if (!shell.HasExited) shell.Kill(entireProcessTree: true);
        }
        Assert.True(shell.ExitCode == 130, $"exit {shell.ExitCode}: {await stderr}; stdout: {await stdout}; node 1's log ends:\n" +
            string.Join('\n', _nodes[0].Log.Split('\n').TakeLast(40)));
        Assert.Contains("cancelled", await stderr);
        Assert.Contains("nothing was stored", await stderr);
        Assert.DoesNotContain("put cancel/big.bin", await stdout);
        foreach (var port in ports)
        {
            var ls = await ObjectStoreProcess.ShellAsync(port, "ls");
            Assert.True(ls.ExitCode == 0, ls.Stderr);
            Assert.Contains("(no buckets)", ls.Stdout);
        }
    }

    private static async Task<string> RunAsync(string program, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(program, args) { UseShellExecute = false, RedirectStandardOutput = true })!;
        var output = await process.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', args)} failed");
        return output.Trim();
    }
}
