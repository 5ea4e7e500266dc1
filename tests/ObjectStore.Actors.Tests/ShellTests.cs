using ObjectStore.Actors.Shell;

namespace ObjectStore.Actors.Tests;

public class ShellTests : StoreTestKit
{
    [Fact]
    public void Words_honour_quotes_and_backslashes_and_commands_split_on_semicolons()
    {
        Assert.Equal(["put", "my file.txt", "b/it's"], ShellLine.Words("put 'my file.txt' \"b/it's\""));
        Assert.Equal(["put", "a b"], ShellLine.Words(@"put a\ b"));
        Assert.Equal(["put 'a;b' x/y", "ls"], ShellLine.SplitCommands("put 'a;b' x/y; ls"));
        Assert.Throws<FormatException>(() => ShellLine.Words("put 'unclosed"));
    }

    [Theory]
    [InlineData("a/b.txt", true)]
    [InlineData("ünï/ファイル", true)]
    [InlineData("../escape", false)]
    [InlineData("a/../../escape", false)]
    [InlineData("/absolute", false)]
    [InlineData("a//b", false)]
    [InlineData("a/./b", false)]
    public void Keys_become_local_paths_only_when_they_stay_inside_the_target(string key, bool safe)
    {
        var root = Path.Combine(WorkDirectory, "root");
        var path = ShellCommands.SafeLocalPath(root, key);
        Assert.Equal(safe, path is not null);
        if (path is not null) Assert.StartsWith(root + Path.DirectorySeparatorChar, path);
    }

    [Fact]
    public void A_tree_summary_gives_count_size_time_and_rate()
    {
        Assert.Equal("2000 files, 8.0 MiB in 0.50 s (4,000 files/s, 16.0 MiB/s)",
            TreeSummary.Of(2000, "files", 8 * 1024 * 1024, TimeSpan.FromMilliseconds(500)));
        // A command over within the clock's resolution still gives a finite rate.
        Assert.Equal("1 objects, 10 B in 0.00 s (1,000 objects/s, 9.8 KiB/s)", TreeSummary.Of(1, "objects", 10, TimeSpan.Zero));
        Assert.Equal("in 2.00 s (512.0 MiB/s)", TreeSummary.Took(1024L * 1024 * 1024, TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public async Task A_get_large_enough_for_a_progress_bar_ends_with_its_time_and_rate_and_a_small_one_does_not()
    {
        var client = StartNode();
        var big = WriteRandomFile("big.bin", 9 * 1024 * 1024, 5);
        var small = WriteRandomFile("small.bin", 1000, 6);
        await Within(client.PutFileAsync(big, "timed", "big.bin"));
        await Within(client.PutFileAsync(small, "timed", "small.bin"));
        var output = new RecordingOutput();
        var back = Path.Combine(WorkDirectory, "back");
        Directory.CreateDirectory(back);

        var commands = new ShellCommands(client, output);

        Assert.Equal(ShellOutcome.Ok, await Within(commands.RunAsync($"get timed/big.bin '{back}/big.bin'")));
        Assert.Equal(ShellOutcome.Ok, await Within(commands.RunAsync($"get timed/small.bin '{back}/small.bin'")));
        Assert.Empty(output.Errors);
        Assert.Matches(@"^got timed/big\.bin -> .*  9\.0 MiB  sha256 [0-9a-f]{64}  in [0-9]+\.[0-9]{2} s \([0-9.]+ [KMG]?i?B/s\)$", Assert.Single(output.Lines, l => l.Contains("big.bin")));
        Assert.EndsWith(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(small))), Assert.Single(output.Lines, l => l.Contains("small.bin")));
        Assert.Equal(File.ReadAllBytes(big), File.ReadAllBytes(Path.Combine(back, "big.bin")));
    }

    [Fact]
    public async Task Get_r_refuses_a_key_that_would_escape_the_target_and_writes_nothing()
    {
        var client = StartNode();
        var file = WriteRandomFile("in", 100, 1);
        await Within(client.PutFileAsync(file, "trees", "t/../../evil"));
        var output = new RecordingOutput();
        var commands = new ShellCommands(client, output);

        var outcome = await commands.RunAsync($"get -r trees/t '{Path.Combine(WorkDirectory, "out")}'");

        Assert.Equal(ShellOutcome.Failed, outcome);
        Assert.Contains("cannot be written safely", Assert.Single(output.Errors));
        Assert.False(Directory.Exists(Path.Combine(WorkDirectory, "out")));
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(WorkDirectory)!, "evil")));
    }

    [Fact]
    public async Task Put_r_checks_every_key_before_storing_anything()
    {
        var client = StartNode();
        var tree = Path.Combine(WorkDirectory, "tree");
        Directory.CreateDirectory(tree);
        File.WriteAllText(Path.Combine(tree, "ok.txt"), "fine");
        File.WriteAllText(Path.Combine(tree, new string('x', 200)), "name too long for the prefix");
        var output = new RecordingOutput();

        var outcome = await new ShellCommands(client, output).RunAsync($"put -r '{tree}' trees/{new string('p', 900)}");

        Assert.Equal(ShellOutcome.Failed, outcome);
        Assert.Contains("at most 1024 bytes", Assert.Single(output.Errors));
        Assert.Empty((await Within(client.ListBucketsAsync())).Buckets);
    }

    [Fact]
    public async Task Put_FILE_BUCKET_uses_the_file_name_and_a_prefix_ending_in_a_slash_puts_it_after_the_prefix()
    {
        var client = StartNode();
        var file = WriteRandomFile("report.pdf", 1000, 2);
        var output = new RecordingOutput();
        var commands = new ShellCommands(client, output);

        Assert.Equal(ShellOutcome.Ok, await commands.RunAsync($"put '{file}' docs"));
        Assert.Equal(ShellOutcome.Ok, await commands.RunAsync($"put '{file}' docs/2026/"));
        Assert.Equal(ShellOutcome.Ok, await commands.RunAsync($"put '{file}' docs/renamed.pdf"));

        var keys = (await Within(client.ListAsync("docs", ""))).Objects.Select(o => o.Key).ToList();
        Assert.Equal(["2026/report.pdf", "renamed.pdf", "report.pdf"], keys);
        Assert.Empty(output.Errors);
    }

    [Fact]
    public async Task Wrong_arguments_print_the_commands_usage_and_help_CMD_prints_one_command()
    {
        var client = StartNode();
        var output = new RecordingOutput();
        var commands = new ShellCommands(client, output);

        Assert.Equal(ShellOutcome.Failed, await commands.RunAsync("put onlyone"));
        Assert.Equal(ShellOutcome.Failed, await commands.RunAsync("get --bogus a/b c"));
        Assert.Equal(ShellOutcome.Ok, await commands.RunAsync("help get"));

        Assert.Equal("error: wrong arguments for 'put'; usage: put FILE BUCKET[/KEY] | put FILE BUCKET/PREFIX/ | put -r DIR BUCKET[/PREFIX] | put - BUCKET/KEY",
            output.Errors[0]);
        Assert.StartsWith("error: unknown option '--bogus' for 'get' (it takes -r, --force, --no-preserve)", output.Errors[1]);
        var help = Assert.Single(output.Lines);
        Assert.StartsWith("usage: get BUCKET/KEY FILE", help);
        Assert.DoesNotContain("usage: put", help);
    }

    [Fact]
    public async Task Get_keeps_an_existing_file_unless_force_and_get_r_writes_nothing_when_one_exists()
    {
        var client = StartNode();
        var file = WriteRandomFile("in.bin", 5000, 3);
        await Within(client.PutFileAsync(file, "keep", "a/in.bin"));
        await Within(client.PutFileAsync(file, "keep", "a/other.bin"));
        var target = Path.Combine(WorkDirectory, "out");
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "in.bin"), "mine");
        var output = new RecordingOutput();
        var commands = new ShellCommands(client, output);

        Assert.Equal(ShellOutcome.Failed, await commands.RunAsync($"get keep/a/in.bin '{target}'"));
        Assert.Equal(ShellOutcome.Failed, await commands.RunAsync($"get -r keep/a '{target}'"));
        Assert.Equal("mine", File.ReadAllText(Path.Combine(target, "in.bin")));
        Assert.False(File.Exists(Path.Combine(target, "other.bin")));
        Assert.Contains("'get --force' overwrites it", output.Errors[0]);
        Assert.Contains("1 of the 2 files exist already", output.Errors[1]);

        Assert.Equal(ShellOutcome.Ok, await commands.RunAsync($"get --force keep/a/in.bin '{target}'"));
        Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(target, "in.bin")));
    }

    [Fact]
    public async Task A_device_is_refused_with_one_line_and_stores_nothing()
    {
        var client = StartNode();
        var output = new RecordingOutput();

        var outcome = await new ShellCommands(client, output).RunAsync("put /dev/zero zeros/z");

        Assert.Equal(ShellOutcome.Failed, outcome);
        Assert.Equal("error: /dev/zero is a character device, not a file; put takes regular files, a FIFO, or - for stdin", Assert.Single(output.Errors));
        Assert.Empty((await Within(client.ListBucketsAsync())).Buckets);
    }

    [Fact]
    public async Task A_cancelled_put_stores_nothing_and_says_so()
    {
        var client = StartNode();
        var file = WriteRandomFile("big.bin", 64 * 1024 * 1024, 4);
        var output = new RecordingOutput();
        using var cancel = new CancellationTokenSource();
        cancel.Cancel(); // before the node has the put: the client must still end it there

        var outcome = await Within(new ShellCommands(client, output).RunAsync($"put '{file}' cancel/big.bin", cancel.Token));

        Assert.Equal(ShellOutcome.Failed, outcome);
        Assert.Contains("cancelled", Assert.Single(output.Errors));
        Assert.Contains("nothing was stored", output.Errors[0]);
        Assert.Empty((await Within(client.ListBucketsAsync())).Buckets);
    }
}
