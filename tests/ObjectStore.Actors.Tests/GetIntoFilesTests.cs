using Microsoft.Win32.SafeHandles;
using ObjectStore.Actors.Client;
using ObjectStore.Actors.Protocol;
using static ObjectStore.Actors.Tests.HandOverClient;
using ObjectStore.Actors.Shell;
using ObjectStore.Actors.Transfer;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Tests;

/// <summary>
/// A get -r from a node on this machine: the shell hands the node a temp file per object, many in one message,
/// and the node writes the objects into them (GetSmallObjects with IntoFiles). Every file comes back identical,
/// a corrupt object fails alone and leaves no file, the hand-over is refused with a forged or replayed token or
/// the wrong number of files, a second go-ahead is ignored, a file the node cannot write fails its object alone, and a node without
/// hand-overs answers inline.
/// </summary>
public sealed class GetIntoFilesTests : StoreTestKit
{
    // A small put batch takes objects of one chunk only: chunks of at least a frame (64 KiB) let put -r batch the small
    // files, and the larger ones still span several chunks.
    public GetIntoFilesTests() =>
        Settings = Settings with { Chunking = SmallChunks with { MinSize = 66 * 1024, AverageSize = 128 * 1024, MaxSize = 512 * 1024 } };

    /// <summary>A tree of 0-byte to 600 KiB files in nested directories (those above 66 KiB in several chunks).</summary>
    private static async Task RunOk(StoreClient client, RecordingOutput output, string line) =>
        Assert.True(await Within(new ShellCommands(client, output).RunAsync(line)) == ShellOutcome.Ok, $"{line}: {string.Join("; ", output.Errors)}");

    private string WriteTree(string name, int files)
    {
        var root = Path.Combine(WorkDirectory, name);
        for (var i = 0; i < files; i++)
        {
            var directory = Path.Combine(root, $"d{i % 3}", i % 2 == 0 ? "" : "sub");
            Directory.CreateDirectory(directory);
            File.WriteAllBytes(Path.Combine(directory, $"f{i}"), RandomBytes(i * i * 731 % 600_000, 40 + i));
        }
        return root;
    }

    private static void AssertSameTree(string expected, string actual)
    {
        var want = Directory.EnumerateFiles(expected, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(expected, f)).Order().ToList();
        var got = Directory.EnumerateFiles(actual, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(actual, f)).Order().ToList();
        Assert.Equal(want, got); // also: no temp file left behind
        foreach (var file in want) Assert.Equal(File.ReadAllBytes(Path.Combine(expected, file)), File.ReadAllBytes(Path.Combine(actual, file)));
    }

    /// <summary>Flips a bit in the last chunk of trees/<paramref name="key"/> on the node's only copy.</summary>
    private async Task DamageLastChunkOf(StoreClient client, string key)
    {
        var chunks = (await Within(client.StatAsync("trees", key))).Chunks;
        var victim = Node!.Chunks.PathOf(chunks[^1].Id);
        var bytes = File.ReadAllBytes(victim);
        bytes[bytes.Length / 2] ^= 0x01;
        File.WriteAllBytes(victim, bytes);
    }

    [LinuxFact]
    public async Task A_get_r_from_this_machine_has_the_node_write_its_files_and_brings_the_tree_back_identical()
    {
        var client = StartNode();
        var tree = WriteTree("tree", 70);
        File.SetLastWriteTimeUtc(Path.Combine(tree, "d1", "sub", "f1"), new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc));
        var output = new RecordingOutput();
        await RunOk(client, output, $"put -r '{tree}' trees/t");
        var handOversBefore = Node!.DataPlane!.HandOvers;

        var back = Path.Combine(WorkDirectory, "back");
        await RunOk(client, output, $"get -r trees/t '{back}'");

        Assert.Empty(output.Errors);
        AssertSameTree(tree, back);
        Assert.Equal(new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc), File.GetLastWriteTimeUtc(Path.Combine(back, "d1", "sub", "f1")));
        // 70 files, 17.6 MB in all, in batches of at most 64 objects and 8 MiB: three hand-overs, not 70 files one by one.
        Assert.InRange(Node.DataPlane.HandOvers - handOversBefore, 1, 5);
    }

    [LinuxFact]
    public async Task Without_hand_overs_the_node_answers_the_batches_inline_and_the_tree_still_comes_back()
    {
        Settings = Settings with { LocalHandOver = false };
        var client = StartNode();
        var tree = WriteTree("tree", 30);
        var output = new RecordingOutput();
        await RunOk(client, output, $"put -r '{tree}' trees/t");

        var back = Path.Combine(WorkDirectory, "back");
        await RunOk(client, output, $"get -r trees/t '{back}'");

        Assert.Empty(output.Errors);
        AssertSameTree(tree, back);
        Assert.Equal(0, Node!.DataPlane!.HandOvers);
    }

    [LinuxFact]
    public async Task A_corrupt_object_in_a_handed_over_batch_fails_alone_named_and_leaves_no_file()
    {
        var client = StartNode();
        var tree = WriteTree("tree", 12);
        var output = new RecordingOutput();
        await RunOk(client, output, $"put -r '{tree}' trees/t");
        await DamageLastChunkOf(client, "t/d1/sub/f7"); // 35,819 bytes

        var back = Path.Combine(WorkDirectory, "back");
        Assert.Equal(ShellOutcome.Failed, await Within(new ShellCommands(client, output).RunAsync($"get -r trees/t '{back}'")));

        Assert.Contains(output.Errors, e => e.Contains("get of trees/t/d1/sub/f7 failed"));
        Assert.Contains(output.Errors, e => e.Contains("1 of 12 objects in a batch could not be got"));
        File.Delete(Path.Combine(tree, "d1", "sub", "f7"));
        AssertSameTree(tree, back); // the other eleven, and not one temp file
        Assert.True(Node!.DataPlane!.HandOvers > 0);
    }

    [LinuxFact]
    public async Task Without_hand_overs_a_corrupt_object_in_a_tree_fails_named_and_no_file_is_half_written()
    {
        Settings = Settings with { LocalHandOver = false };
        var client = StartNode();
        var tree = WriteTree("tree", 40);
        var output = new RecordingOutput();
        await RunOk(client, output, $"put -r '{tree}' trees/t");
        await DamageLastChunkOf(client, "t/d1/sub/f7");

        var back = Path.Combine(WorkDirectory, "back");
        Assert.Equal(ShellOutcome.Failed, await Within(new ShellCommands(client, output).RunAsync($"get -r trees/t '{back}'")));

        Assert.Contains(output.Errors, e => e.Contains("trees/t/d1/sub/f7"));
        Assert.False(File.Exists(Path.Combine(back, "d1", "sub", "f7")));
        // The pieces after the failure are not started; each file that was written is whole, and no temp file is left.
        var written = Directory.EnumerateFiles(back, "*", SearchOption.AllDirectories).ToList();
        Assert.NotEmpty(written);
        foreach (var file in written)
            Assert.Equal(File.ReadAllBytes(Path.Combine(tree, Path.GetRelativePath(back, file))), File.ReadAllBytes(file));
        Assert.Equal(0, Node!.DataPlane!.HandOvers);
    }

    [LinuxFact]
    public async Task A_batch_hand_over_with_a_forged_or_replayed_token_or_the_wrong_number_of_files_is_refused_and_nothing_is_written()
    {
        var (probe, ready) = await GetIntoFilesOf(20_000, "a", "b");
        Assert.NotEqual("", ready.HandOver);
        using var first = TempFile("one");
        using var second = TempFile("two");
        using var third = TempFile("three");

        var forged = ready.Token.ToArray();
        forged[0] ^= 0xff;
        Assert.Equal(0, HandOver(ready.HandOver, forged, [first, second]));
        Assert.Equal(0, HandOver(ready.HandOver, ready.Token, [first])); // two keys, one file
        Assert.Equal(0, HandOver(ready.HandOver, ready.Token, [first, second, third]));
        Assert.Equal(0, Node!.DataPlane!.HandOvers);

        Assert.Equal(1, HandOver(ready.HandOver, ready.Token, [first, second]));
        Assert.Equal(0, HandOver(ready.HandOver, ready.Token, [third, second])); // replayed
        ready.Batch.Tell(new FilesHandedOver(), probe.Ref);
        var found = probe.ExpectMsg<SmallObjectsFound>(TimeSpan.FromSeconds(10));

        Assert.All(found.Outcomes, o => Assert.True(o.InFile));
        Assert.Equal(File.ReadAllBytes(Path.Combine(WorkDirectory, "a")), File.ReadAllBytes(Path.Combine(WorkDirectory, "one")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(WorkDirectory, "b")), File.ReadAllBytes(Path.Combine(WorkDirectory, "two")));
        Assert.Equal(0, new FileInfo(Path.Combine(WorkDirectory, "three")).Length);
        Assert.Equal(1, Node.DataPlane.HandOvers);
    }

    [LinuxFact]
    public async Task The_go_ahead_without_a_hand_over_is_refused_and_nothing_is_written()
    {
        var (probe, ready) = await GetIntoFilesOf(20_000, "a");

        ready.Batch.Tell(new FilesHandedOver(), probe.Ref);

        var error = probe.ExpectMsg<StoreError>(TimeSpan.FromSeconds(10));
        Assert.Equal(StoreErrorCode.InvalidRequest, error.Code);
        Assert.Contains("took no files", error.Message);
        using var late = TempFile("late");
        Assert.Equal(0, HandOver(ready.HandOver, ready.Token, [late])); // the batch has ended: its token with it
        Assert.Equal(0, new FileInfo(Path.Combine(WorkDirectory, "late")).Length);
    }

    [LinuxFact]
    public async Task A_batch_of_one_takes_its_one_handed_over_file_and_writes_the_object_into_it()
    {
        var (probe, ready) = await GetIntoFilesOf(30_000, "a");
        using var only = TempFile("one");

        Assert.Equal(1, HandOver(ready.HandOver, ready.Token, [only]));
        ready.Batch.Tell(new FilesHandedOver(), probe.Ref);
        var found = probe.ExpectMsg<SmallObjectsFound>(TimeSpan.FromSeconds(10));

        Assert.True(Assert.Single(found.Outcomes).InFile);
        Assert.Equal(File.ReadAllBytes(Path.Combine(WorkDirectory, "a")), File.ReadAllBytes(Path.Combine(WorkDirectory, "one")));
    }

    [LinuxFact]
    public async Task A_second_go_ahead_for_a_batch_is_ignored_and_the_answer_goes_to_the_first()
    {
        var (probe, ready) = await GetIntoFilesOf(30_000, "a");
        using var only = TempFile("one");
        var other = CreateTestProbe();

        Assert.Equal(1, HandOver(ready.HandOver, ready.Token, [only]));
        ready.Batch.Tell(new FilesHandedOver(), probe.Ref);
        ready.Batch.Tell(new FilesHandedOver(), other.Ref);

        Assert.True(Assert.Single(probe.ExpectMsg<SmallObjectsFound>(TimeSpan.FromSeconds(10)).Outcomes).InFile);
        other.ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // the batch answered once and has ended
        Assert.Equal(File.ReadAllBytes(Path.Combine(WorkDirectory, "a")), File.ReadAllBytes(Path.Combine(WorkDirectory, "one")));
    }

    [LinuxFact]
    public async Task A_handed_over_file_the_node_cannot_write_fails_its_object_alone()
    {
        var (probe, ready) = await GetIntoFilesOf(50_000, "a", "b");
        using var writable = TempFile("one");
        File.WriteAllBytes(Path.Combine(WorkDirectory, "two"), []);
        using var readOnly = File.OpenHandle(Path.Combine(WorkDirectory, "two"), FileMode.Open, FileAccess.Read);

        Assert.Equal(1, HandOver(ready.HandOver, ready.Token, [writable, readOnly]));
        ready.Batch.Tell(new FilesHandedOver(), probe.Ref);
        var found = probe.ExpectMsg<SmallObjectsFound>(TimeSpan.FromSeconds(10));

        Assert.True(found.Outcomes[0].InFile);
        Assert.Equal(File.ReadAllBytes(Path.Combine(WorkDirectory, "a")), File.ReadAllBytes(Path.Combine(WorkDirectory, "one")));
        Assert.False(found.Outcomes[1].InFile);
        Assert.Equal(StoreErrorCode.InvalidRequest, found.Outcomes[1].Error?.Code);
        Assert.Contains(FileDownloadSinkFailure, found.Outcomes[1].Error!.Message);
    }

    /// <summary>A node holding objects of <paramref name="size"/> bytes under <paramref name="keys"/> (their files in the work
    /// directory, named as the keys), and its answer to a get of them into files: the token to hand the files over with.</summary>
    private async Task<(Akka.TestKit.TestProbe Probe, FilesReady Ready)> GetIntoFilesOf(int size, params string[] keys)
    {
        var client = StartNode();
        foreach (var key in keys) await Within(client.PutFileAsync(WriteRandomFile(key, size, key[0]), "photos", key));
        var probe = CreateTestProbe();
        client.Node.Tell(new GetSmallObjects("photos", keys, IntoFiles: true), probe.Ref);
        return (probe, probe.ExpectMsg<FilesReady>());
    }

    private const string FileDownloadSinkFailure = "writing the handed-over file failed";

    private SafeFileHandle TempFile(string name) =>
        File.OpenHandle(Path.Combine(WorkDirectory, name), FileMode.CreateNew, FileAccess.Write);
}
