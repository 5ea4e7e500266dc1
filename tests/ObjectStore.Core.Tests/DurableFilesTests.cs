using ObjectStore.Core.Storage;

namespace ObjectStore.Core.Tests;

public class DurableFilesTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string PathOf(string name) => Path.Combine(_dir.Path, name);

    [Fact]
    public void A_rename_that_must_not_replace_moves_to_a_new_name_and_leaves_an_existing_one_alone()
    {
        File.WriteAllText(PathOf("a"), "first");
        var outcome = DurableFiles.TryRenameNoReplace(PathOf("a"), PathOf("b"));
        if (outcome == DurableFiles.RenameOutcome.Unsupported) return; // not Linux, or a file system without it: the store moves the usual way
        Assert.Equal(DurableFiles.RenameOutcome.Renamed, outcome);
        Assert.False(File.Exists(PathOf("a")));
        Assert.Equal("first", File.ReadAllText(PathOf("b")));

        File.WriteAllText(PathOf("c"), "second");
        Assert.Equal(DurableFiles.RenameOutcome.TargetExists, DurableFiles.TryRenameNoReplace(PathOf("c"), PathOf("b")));
        Assert.Equal("first", File.ReadAllText(PathOf("b")));
        Assert.Equal("second", File.ReadAllText(PathOf("c")));

        Assert.Throws<DirectoryNotFoundException>(() => DurableFiles.TryRenameNoReplace(PathOf("c"), PathOf("gone/b")));
        Assert.True(File.Exists(PathOf("c")));
    }

    [Fact]
    public void A_new_file_is_written_whole_and_an_existing_one_is_refused_and_left_as_it_was()
    {
        var data = new byte[70_000];
        new Random(3).NextBytes(data);
        DurableFiles.WriteNew(PathOf("new"), data);
        Assert.Equal(data, File.ReadAllBytes(PathOf("new")));

        DurableFiles.WriteNew(PathOf("empty"), ReadOnlySpan<byte>.Empty);
        Assert.Equal(0, new FileInfo(PathOf("empty")).Length);

        Assert.Throws<IOException>(() => DurableFiles.WriteNew(PathOf("new"), new byte[10]));
        Assert.Equal(data, File.ReadAllBytes(PathOf("new")));

        Assert.Throws<DirectoryNotFoundException>(() => DurableFiles.WriteNew(PathOf("gone/new"), data));
    }
}
