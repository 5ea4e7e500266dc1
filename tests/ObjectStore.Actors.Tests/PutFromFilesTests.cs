using Microsoft.Win32.SafeHandles;
using ObjectStore.Actors.Client;
using ObjectStore.Actors.Protocol;
using static ObjectStore.Actors.Tests.HandOverClient;
using ObjectStore.Actors.Shell;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Tests;

/// <summary>
/// A put -r on the node's machine: the shell hands the node its small files, many in one message (PutSmallFiles),
/// and the node reads them itself. Every object comes back identical, a file larger than one chunk is put on its
/// own, the hand-over is refused with a forged or replayed token or the wrong number of files and stores nothing,
/// a file the node cannot read fails alone, and with the hand-over off the shell sends the bytes.
/// </summary>
public sealed class PutFromFilesTests : StoreTestKit
{
    private static async Task RunOk(StoreClient client, RecordingOutput output, string line) =>
        Assert.True(await Within(new ShellCommands(client, output).RunAsync(line)) == ShellOutcome.Ok, $"{line}: {string.Join("; ", output.Errors)}");

    /// <summary>Files of 0 to 60 KiB in nested directories, and two of 300 KiB.</summary>
    private string WriteTree(int files)
    {
        var root = Path.Combine(WorkDirectory, "tree");
        for (var i = 0; i < files; i++)
        {
            var directory = Path.Combine(root, $"d{i % 3}");
            Directory.CreateDirectory(directory);
            File.WriteAllBytes(Path.Combine(directory, $"f{i}"), RandomBytes(i * 997 % 61_000, 70 + i));
        }
        File.WriteAllBytes(Path.Combine(root, "big1"), RandomBytes(300_000, 1));
        File.WriteAllBytes(Path.Combine(root, "big2"), RandomBytes(300_000, 2));
        return root;
    }

    private async Task AssertStoredAsync(StoreClient client, string tree, string prefix)
    {
        var back = Path.Combine(WorkDirectory, "back-" + Guid.NewGuid().ToString("N"));
        var output = new RecordingOutput();
        await RunOk(client, output, $"get -r {prefix} '{back}'");
        var want = Directory.EnumerateFiles(tree, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(tree, f)).Order().ToList();
        Assert.Equal(want, Directory.EnumerateFiles(back, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(back, f)).Order().ToList());
        foreach (var file in want) Assert.Equal(File.ReadAllBytes(Path.Combine(tree, file)), File.ReadAllBytes(Path.Combine(back, file)));
    }

    [LinuxFact]
    public async Task A_put_r_from_this_machine_hands_the_node_its_small_files_and_every_object_comes_back_identical()
    {
        // Chunks of at least a frame: every small file is one chunk and goes in a batch.
        Settings = Settings with { Chunking = SmallChunks with { MinSize = 66 * 1024, AverageSize = 128 * 1024, MaxSize = 512 * 1024 } };
        var client = StartNode();
        var tree = WriteTree(100);
        File.SetLastWriteTimeUtc(Path.Combine(tree, "d1", "f1"), new DateTime(2002, 3, 4, 5, 6, 7, DateTimeKind.Utc));
        var output = new RecordingOutput();

        await RunOk(client, output, $"put -r '{tree}' trees/t");

        // 100 small files in batches of at most 64 (two hand-overs), and the two large files one hand-over each.
        Assert.Equal(4, Node!.DataPlane!.HandOvers);
        Assert.Equal(102, output.Lines.Count(l => l.StartsWith("put trees/t/")));
        await AssertStoredAsync(client, tree, "trees/t");
        Assert.Equal(new DateTime(2002, 3, 4, 5, 6, 7, DateTimeKind.Utc), File.GetLastWriteTimeUtc(Directory.EnumerateFiles(WorkDirectory, "f1", SearchOption.AllDirectories).First(f => f.Contains("back-"))));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_file_larger_than_one_chunk_is_put_on_its_own_instead_of_failing_the_batch(bool handOver)
    {
        // The test chunker's 16 KiB single chunk: most of the tree's small files are larger, in batches the node reads
        // itself (hand-over) and in batches that carry their bytes alike.
        if (!OperatingSystem.IsLinux() && handOver) return;
        Settings = Settings with { LocalHandOver = handOver };
        var client = StartNode();
        var tree = WriteTree(20);
        var output = new RecordingOutput();

        await RunOk(client, output, $"put -r '{tree}' trees/t");

        Assert.Empty(output.Errors);
        await AssertStoredAsync(client, tree, "trees/t");
    }

    [LinuxFact]
    public async Task With_hand_over_off_a_put_r_sends_the_bytes_and_stores_the_same()
    {
        Settings = Settings with { LocalHandOver = false, Chunking = SmallChunks with { MinSize = 66 * 1024, AverageSize = 128 * 1024, MaxSize = 512 * 1024 } };
        var client = StartNode();
        var tree = WriteTree(30);
        var output = new RecordingOutput();

        await RunOk(client, output, $"put -r '{tree}' trees/t");

        Assert.Equal(0, Node!.DataPlane!.HandOvers);
        await AssertStoredAsync(client, tree, "trees/t");
    }

    [LinuxFact]
    public async Task A_put_of_files_with_a_forged_or_replayed_token_or_the_wrong_number_of_files_is_refused_and_stores_nothing_twice()
    {
        var (client, a, b, probe, ready) = PutOfTwoFiles();
        using var fileA = File.OpenHandle(a);
        using var fileB = File.OpenHandle(b);

        var forged = ready.Token.ToArray();
        forged[^1] ^= 0x5a;
        Assert.Equal(0, HandOver(ready.HandOver, forged, [fileA, fileB]));
        Assert.Equal(0, HandOver(ready.HandOver, ready.Token, [fileA]));
        Assert.Empty((await Within(client.ListAsync("photos", ""))).Objects);

        Assert.Equal(1, HandOver(ready.HandOver, ready.Token, [fileA, fileB]));
        Assert.Equal(0, HandOver(ready.HandOver, ready.Token, [fileB, fileA])); // replayed
        ready.Batch.Tell(new FilesHandedOver(), probe.Ref);
        var done = probe.ExpectMsg<SmallPutsDone>(TimeSpan.FromSeconds(10));

        Assert.All(done.Outcomes, o => Assert.NotNull(o.Done));
        Assert.Equal(File.ReadAllBytes(a).Length, done.Outcomes[0].Done!.Object.Size);
        Assert.Equal(["a", "b"], (await Within(client.ListAsync("photos", ""))).Objects.Select(o => o.Key));
    }

    [LinuxFact]
    public async Task A_handed_over_file_the_node_cannot_read_fails_alone_and_the_others_are_stored()
    {
        var (client, a, b, probe, ready) = PutOfTwoFiles();
        using var readable = File.OpenHandle(a);
        using var writeOnly = File.OpenHandle(b, FileMode.Open, FileAccess.Write);

        Assert.Equal(1, HandOver(ready.HandOver, ready.Token, [readable, writeOnly]));
        ready.Batch.Tell(new FilesHandedOver(), probe.Ref);
        var done = probe.ExpectMsg<SmallPutsDone>(TimeSpan.FromSeconds(10));

        Assert.NotNull(done.Outcomes[0].Done);
        Assert.Equal(StoreErrorCode.InvalidRequest, done.Outcomes[1].Error?.Code);
        Assert.Contains("reading the handed-over file failed", done.Outcomes[1].Error!.Message);
        Assert.Equal(["a"], (await Within(client.ListAsync("photos", ""))).Objects.Select(o => o.Key));
    }

    [LinuxFact]
    public async Task A_node_with_hand_over_off_refuses_a_put_of_files_at_once()
    {
        Settings = Settings with { LocalHandOver = false };
        var client = StartNode();
        var probe = CreateTestProbe();

        client.Node.Tell(new PutSmallFiles([Named("a")]), probe.Ref);

        Assert.Contains("takes no files handed over", probe.ExpectMsg<StoreError>().Message);
    }

    [Fact]
    public async Task A_node_that_does_not_know_a_put_of_files_makes_the_client_send_bytes_after_a_short_wait()
    {
        // A node of an earlier version drops the unknown message: no answer ever comes.
        var oldNode = CreateTestProbe();
        var client = new StoreClient(Sys, oldNode.Ref, Settings);
        using var file = File.OpenHandle(WriteRandomFile("a", 3_000, 1));

        var started = DateTime.UtcNow;
        var done = await Within(client.PutSmallBatchFromFilesAsync([Named("a")], [file]));

        Assert.Null(done); // the caller sends the bytes instead
        oldNode.ExpectMsg<PutSmallFiles>();
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(15));
    }

    /// <summary>A node, files a and b, and its answer to a put of the two as files: the token to hand them over with.</summary>
    private (StoreClient Client, string A, string B, Akka.TestKit.TestProbe Probe, FilesReady Ready) PutOfTwoFiles()
    {
        var client = StartNode();
        var a = WriteRandomFile("a", 3_000, 1);
        var b = WriteRandomFile("b", 4_000, 2);
        var probe = CreateTestProbe();
        client.Node.Tell(new PutSmallFiles([Named("a"), Named("b")]), probe.Ref);
        return (client, a, b, probe, probe.ExpectMsg<FilesReady>());
    }

    private static PutSmallObject Named(string key) => new("photos", key, ReadOnlyMemory<byte>.Empty);
}
