namespace ObjectStore.Node.Tests;

/// <summary>The real executable: `objectstore node` in one process, `objectstore shell` in others.</summary>
public class ShellProcessTests : IDisposable
{
    private readonly TestFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task A_64_MiB_file_and_a_directory_tree_come_back_identical_through_the_shell()
    {
        using var node = await ObjectStoreProcess.NodeProcess.StartAsync(_files.PathOf("data"));
        var big = _files.RandomFile("big.bin", 64L * 1024 * 1024, 1);
        var tree = _files.PathOf("tree");
        _files.RandomFile("tree/top.txt", 1000, 2);
        _files.RandomFile("tree/nested/deeper/still deeper/file with spaces.bin", 3 * 1024 * 1024, 3);
        _files.RandomFile("tree/ünïcödé/日本語 ファイル.dat", 70_000, 4);
        File.WriteAllBytes(_files.PathOf("tree/nested/empty"), []);

        var put = await ObjectStoreProcess.ShellAsync(node.Port, $"put '{big}' media/big.bin; put -r '{tree}' media/tree");
        Assert.True(put.ExitCode == 0, put.Stderr + node.Log);
        var get = await ObjectStoreProcess.ShellAsync(node.Port, $"get media/big.bin '{_files.PathOf("big.out")}'; get -r media/tree '{_files.PathOf("tree.out")}'");
        Assert.True(get.ExitCode == 0, get.Stderr);
        // The tree commands end with what they moved, how long it took and the rate, as restic and borg do.
        Assert.Matches(@"(?m)^put 4 files, 3\.1 MiB in \d+\.\d\d s \([\d,]+ files/s, [\d.]+ \w+/s\) under media/tree/$", put.Stdout);
        Assert.Matches(@"(?m)^got 4 objects, 3\.1 MiB in \d+\.\d\d s \([\d,]+ objects/s, [\d.]+ \w+/s\) into ", get.Stdout);

        Assert.True(File.ReadAllBytes(big).AsSpan().SequenceEqual(File.ReadAllBytes(_files.PathOf("big.out"))));
        TestFiles.AssertSameTree(tree, _files.PathOf("tree.out"));
        var ls = await ObjectStoreProcess.ShellAsync(node.Port, "ls media/tree/nested");
        Assert.Contains("tree/nested/empty", ls.Stdout);
        Assert.Contains("file with spaces.bin", ls.Stdout);
    }

    /// <summary>
    /// A script on the node's machine talks over the node's local link: without a transfer it starts no actor system
    /// (the shell's Akka log, turned on, stays silent); a file larger than a request starts one for that transfer;
    /// with the link off in the shell's configuration the script talks Akka.Remote from the start. The objects are
    /// the same every way.
    /// </summary>
    [Fact]
    public async Task A_script_goes_over_the_nodes_local_link_and_starts_remoting_only_for_a_transfer_or_with_the_link_off()
    {
        if (!OperatingSystem.IsLinux()) return; // the link is Linux only
        using var node = await ObjectStoreProcess.NodeProcess.StartAsync(_files.PathOf("data"));
        var small = _files.RandomFile("small.bin", 3000, 1);
        var large = _files.RandomFile("large.bin", 3 * 1024 * 1024, 2);
        var linkOff = _files.PathOf("link-off.conf");
        File.WriteAllText(linkOff, "objectstore.transfer.local-link = off\n");
        var akkaLog = new Dictionary<string, string> { ["OBJECTSTORE_SHELL_LOGLEVEL"] = "INFO" };
        Task<ObjectStoreProcess.Result> Shell(string script, params string[] options) => ObjectStoreProcess.RunWithAsync(akkaLog, TimeSpan.FromMinutes(2),
            ["shell", "--node", $"127.0.0.1:{node.Port}", .. options, "-c", script]);

        var linked = await Shell($"put '{small}' media/small/small.bin; get -r media/small '{_files.PathOf("small.out")}'; " +
                                 $"get media/small/small.bin '{_files.PathOf("small.one")}'; ls media; stat media/small/small.bin");
        Assert.True(linked.ExitCode == 0, linked.Stderr);
        Assert.DoesNotContain("Starting remoting", linked.Stderr);
        Assert.Contains("small.bin", linked.Stdout);

        var transfer = await Shell($"put '{large}' media/large.bin; get media/large.bin '{_files.PathOf("large.out")}'");
        Assert.True(transfer.ExitCode == 0, transfer.Stderr);
        Assert.Contains("Starting remoting", transfer.Stderr);

        var remote = await Shell($"get media/small/small.bin '{_files.PathOf("small.remote")}'", "--config", linkOff);
        Assert.True(remote.ExitCode == 0, remote.Stderr);
        Assert.Contains("Starting remoting", remote.Stderr);

        foreach (var (original, copy) in new[] { (small, "small.out/small.bin"), (small, "small.one"), (large, "large.out"), (small, "small.remote") })
            Assert.Equal(File.ReadAllBytes(original), File.ReadAllBytes(_files.PathOf(copy)));
    }

    [Fact]
    public async Task Bad_input_gives_one_line_errors_a_non_zero_exit_and_changes_nothing()
    {
        using var node = await ObjectStoreProcess.NodeProcess.StartAsync(_files.PathOf("data"));
        var file = _files.RandomFile("f.bin", 5000, 1);
        var seed = await ObjectStoreProcess.ShellAsync(node.Port, $"put '{file}' keep/f.bin");
        Assert.Equal(0, seed.ExitCode);
        var before = (await ObjectStoreProcess.ShellAsync(node.Port, "ls; ls keep")).Stdout;

        var cases = new (string Script, string Expected)[]
        {
            ($"put '{_files.PathOf("missing.bin")}' keep/x", "no such file"),
            ($"put '{file}' Bad_Bucket/x", "invalid bucket name"),
            ($"put '{file}' ab/x", "invalid bucket name"),
            ("get keep/nope.bin out.bin", "no such object"),
            ("stat keep/nope.bin", "no such object"),
            ("rm keep/nope.bin", "no such object"),
            ("frobnicate keep", "unknown command"),
            ($"get keep/f.bin '{_files.PathOf("no/such/dir/f.bin")}'", "does not exist"),
            ("put onlyonearg", "wrong arguments"),
        };
        foreach (var (script, expected) in cases)
        {
            var result = await ObjectStoreProcess.ShellAsync(node.Port, script + "; ls");
            Assert.NotEqual(0, result.ExitCode);
            var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(lines.Length == 1, $"'{script}' printed: {result.Stderr}");
            Assert.StartsWith("error: ", lines[0]);
            Assert.Contains(expected, lines[0]);
            Assert.Equal("", result.Stdout); // stopped at the first error: the trailing ls did not run
        }

        var after = (await ObjectStoreProcess.ShellAsync(node.Port, "ls; ls keep")).Stdout;
        Assert.Equal(before, after);
        Assert.False(Directory.Exists(_files.PathOf("no")));
    }

    [Fact]
    public async Task Commands_on_stdin_run_as_a_script()
    {
        using var node = await ObjectStoreProcess.NodeProcess.StartAsync(_files.PathOf("data"));
        var file = _files.RandomFile("f.bin", 1000, 1);
        var result = await ObjectStoreProcess.ShellStdinAsync(node.Port, $"put '{file}' scr/f.bin\nstat scr/f.bin\nbogus\nls scr\n");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("sha256", result.Stdout);
        Assert.DoesNotContain(result.Stdout.Split('\n'), l => l.EndsWith("  f.bin")); // the ls after the error did not run
        Assert.Contains("unknown command 'bogus'", result.Stderr);
    }

    [Fact]
    public async Task A_node_started_with_a_seed_joins_its_cluster_and_members_lists_both()
    {
        using var seed = await ObjectStoreProcess.NodeProcess.StartAsync(_files.PathOf("seed"));
        using var member = await ObjectStoreProcess.NodeProcess.StartAsync(_files.PathOf("member"), 0, $"127.0.0.1:{seed.Port}");
        var seedId = File.ReadAllText(_files.PathOf("seed/node-id")).Trim();
        var memberId = File.ReadAllText(_files.PathOf("member/node-id")).Trim();

        // Joining takes a gossip round or two: ask again until both are Up (bounded).
        ObjectStoreProcess.Result members = new(1, "", "");
        for (var attempt = 0; attempt < 30; attempt++)
        {
            members = await ObjectStoreProcess.ShellAsync(member.Port, "members");
            if (members.ExitCode == 0 && members.Stdout.Contains(seedId) && members.Stdout.Contains(memberId)
                && ObjectStoreProcess.UpCount(members) == 2) break;
            await Task.Delay(500);
        }
        Assert.True(members.ExitCode == 0, members.Stderr);
        Assert.Contains($"127.0.0.1:{seed.Port}", members.Stdout);
        Assert.Contains($"127.0.0.1:{member.Port}", members.Stdout);
        Assert.Contains(seedId, members.Stdout);
        Assert.Contains(memberId, members.Stdout);
        Assert.Equal(2, ObjectStoreProcess.UpCount(members));
    }

    [Fact]
    public async Task A_second_node_on_a_data_directory_in_use_exits_with_an_error_naming_it_and_the_holder_and_the_first_keeps_serving()
    {
        using var first = await ObjectStoreProcess.NodeProcess.StartAsync(_files.PathOf("data"));

        var second = await ObjectStoreProcess.RunAsync(TimeSpan.FromMinutes(1), null, "node", "--data", _files.PathOf("data"), "--port", "0", "--factor", "1");

        Assert.Equal(2, second.ExitCode);
        Assert.Contains($"data directory {Path.GetFullPath(_files.PathOf("data"))} is in use by another node (pid ", second.Stderr);
        Assert.Single(second.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("error:"));
        var file = _files.RandomFile("in.bin", 100_000, 1);
        var put = await ObjectStoreProcess.ShellAsync(first.Port, $"put '{file}' locked/in.bin; members");
        Assert.True(put.ExitCode == 0, put.Stderr);
        Assert.Equal(1, ObjectStoreProcess.UpCount(put));
    }

    [Fact]
    public async Task A_second_node_on_a_port_in_use_refuses_to_start_and_the_first_keeps_serving()
    {
        using var first = await ObjectStoreProcess.NodeProcess.StartAsync(_files.PathOf("first"));

        var second = await ObjectStoreProcess.RunAsync(TimeSpan.FromMinutes(1), null,
            "node", "--data", _files.PathOf("second"), "--port", first.Port.ToString());

        Assert.Equal(2, second.ExitCode);
        Assert.Contains($"127.0.0.1:{first.Port} is already in use", second.Stderr);
        Assert.False(File.Exists(_files.PathOf("second/node-id")));
        var members = await ObjectStoreProcess.ShellAsync(first.Port, "members");
        Assert.True(members.ExitCode == 0, members.Stderr);
        Assert.Equal(1, ObjectStoreProcess.UpCount(members));
    }

    [Fact]
    public async Task A_seed_in_the_configuration_that_is_not_an_address_is_a_clear_error()
    {
        var config = _files.PathOf("bad-seed.conf");
        File.WriteAllText(config, "akka.cluster.seed-nodes = [\"127.0.0.1:4053\"]\n");

        var node = await ObjectStoreProcess.RunAsync(TimeSpan.FromMinutes(1), null,
            "node", "--data", _files.PathOf("data"), "--port", "0", "--config", config);

        Assert.Equal(2, node.ExitCode);
        Assert.Contains("akka.cluster.seed-nodes has '127.0.0.1:4053'", node.Stderr);
        Assert.False(Directory.Exists(_files.PathOf("data")));
    }

    [Fact]
    public async Task A_shell_pointed_at_no_node_says_so()
    {
        var result = await ObjectStoreProcess.RunAsync(TimeSpan.FromMinutes(1), null, "shell", "--node", "127.0.0.1:1", "-c", "ls");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("no objectstore node answers at 127.0.0.1:1", result.Stderr);
    }
}
