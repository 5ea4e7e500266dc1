using ObjectStore.Actors.Shell;

namespace ObjectStore.Actors.Tests;

public class ShellTests : StoreTestKit
{
    private sealed class RecordingOutput : IShellOutput
    {
        public List<string> Lines { get; } = [];
        public List<string> Errors { get; } = [];
        public void Line(string text) => Lines.Add(text);
        public void Error(string text) => Errors.Add(text);
        public IShellProgress StartProgress(string label, long total) => new NoProgress();
        private sealed class NoProgress : IShellProgress
        {
            public void Report(long value) { }
            public void Dispose() { }
        }
    }

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
}
