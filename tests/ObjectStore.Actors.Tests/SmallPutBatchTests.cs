using Akka.Actor;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Replication;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Storage;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Tests;

/// <summary>
/// Small objects put in batches (PutSmallObjects): each object is stored on its nodes whole or not at all,
/// a batch that fails part-way says which objects failed, and small chunks travel to peers inside
/// StoreChunks messages that are checked chunk by chunk.
/// </summary>
public sealed class SmallPutBatchTests : ClusterTestKit
{
    private static byte[] Random4K(int seed) => RandomBytes(4096, seed);

    /// <summary>Writes of one chunk fail, and commits of one key fail: on the nodes it is given to.</summary>
    private sealed class Faults(ContentHash brokenChunk, string brokenKey) : IStorageFaults
    {
        public int WriteFailures;
        public int CommitFailures;

        public void BeforeWrite(ContentHash id)
        {
            if (id != brokenChunk) return;
            Interlocked.Increment(ref WriteFailures);
            throw new IOException("simulated disk error [provoked by the test, expected]");
        }

        public void BeforeRename(ContentHash id) { }
        public void BeforeRead(ContentHash id) { }

        public void BeforeCommit(string bucket, string key)
        {
            if (key != brokenKey) return;
            Interlocked.Increment(ref CommitFailures);
            throw new IOException("simulated index failure [provoked by the test, expected]");
        }
    }

    [Fact]
    public async Task A_batch_of_small_puts_stores_every_object_on_every_owner_without_a_transfer_per_chunk()
    {
        Cluster = new TestCluster(ClusterRoot, factor: 3, quorum: 2, lateCopyGrace: TimeSpan.FromSeconds(10));
        await Cluster.StartAsync(3);
        var objects = Enumerable.Range(0, 10).Select(i => new PutSmallObject("small", $"f/{i:D2}", Random4K(i))).ToList();
        objects.Add(new PutSmallObject("small", "f/same-as-00", objects[0].Data)); // the same bytes twice: one chunk
        objects.Add(new PutSmallObject("small", "f/empty", Array.Empty<byte>()));

        var done = await Within(Cluster.Nodes[0].Client.PutSmallBatchAsync(objects));

        Assert.Equal(objects.Select(o => o.Key), done.Outcomes.Select(o => o.Key));
        foreach (var outcome in done.Outcomes)
        {
            Assert.Null(outcome.Error);
            Assert.Equal("stored on 3 of 3 nodes", outcome.Done!.Durability);
        }
        foreach (var node in Cluster.Nodes)
        {
            // Every copy went inside the batch messages: not one body on a data connection.
            Assert.Equal(0, node.Handles.DataPlane!.TokensAccepted);
            foreach (var (o, outcome) in objects.Zip(done.Outcomes))
            {
                Assert.True(await TestCluster.HoldsVersionAsync(node, "small", o.Key, outcome.Done!.Object.VersionId), $"node {node.Index + 1} lacks {o.Key}");
                if (o.Data.Length > 0) Assert.Contains(ContentHash.Compute(o.Data.Span), node.ChunkIds());
            }
        }
        var target = Path.Combine(ClusterRoot, "out");
        foreach (var o in objects)
        {
            await Within(Cluster.Nodes[2].Client.GetFileAsync("small", o.Key, target));
            Assert.Equal(o.Data.ToArray(), File.ReadAllBytes(target));
            File.Delete(target);
        }
    }

    [Fact]
    public async Task A_batch_that_fails_part_way_reports_which_objects_failed_and_stores_none_of_them_half()
    {
        var objects = Enumerable.Range(0, 10).Select(i => new PutSmallObject("small", $"ok/{i}", Random4K(100 + i))).ToList();
        var unwritable = new PutSmallObject("small", "bad/disk", Random4K(7));
        var uncommittable = new PutSmallObject("small", "bad/index", Random4K(8));
        var invalid = new PutSmallObject("small", "bad/\0key", Random4K(9));
        objects.Insert(3, unwritable);
        objects.Insert(6, uncommittable);
        objects.Insert(8, invalid);
        var brokenChunk = ContentHash.Compute(unwritable.Data.Span);
        // The chunk of bad/disk cannot be written on two of the three nodes (no write quorum); the index of
        // every node refuses bad/index (its metadata commits nowhere).
        var faults = Enumerable.Range(0, 3).Select(i => new Faults(i == 0 ? default : brokenChunk, "bad/index")).ToList();
        Cluster = new TestCluster(ClusterRoot, factor: 3, quorum: 2, lateCopyGrace: TimeSpan.FromSeconds(10));
        await Cluster.StartAsync(3, i => faults[i]);

        var done = await Within(Cluster.Nodes[0].Client.PutSmallBatchAsync(objects));

        var failed = done.Outcomes.Where(o => o.Error is not null).ToDictionary(o => o.Key, o => o.Error!);
        Assert.Equal(["bad/\0key", "bad/disk", "bad/index"], failed.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(StoreErrorCode.InvalidRequest, failed["bad/\0key"].Code);
        foreach (var (key, error) in failed)
        {
            Assert.Contains($"put of small/{key} failed", error.Message);
            Assert.Contains("nothing was stored", error.Message);
        }
        Assert.Contains("write quorum", failed["bad/disk"].Message);
        Assert.True(faults[1].WriteFailures + faults[2].WriteFailures >= 2);
        Assert.True(faults.Sum(f => f.CommitFailures) >= 3);

        // The others are whole on every node; none of the failed ones is visible anywhere.
        var stored = done.Outcomes.Where(o => o.Done is not null).ToList();
        Assert.Equal(10, stored.Count);
        foreach (var node in Cluster.Nodes)
        {
            // The failed commit restarted each node's index (after its 1 s backoff): wait until it answers.
            await TestCluster.WaitUntil(() => IndexAnswers(node), $"node {node.Index + 1}'s index answers again");
            foreach (var s in stored)
                Assert.True(await TestCluster.HoldsVersionAsync(node, "small", s.Key, s.Done!.Object.VersionId), $"node {node.Index + 1} lacks {s.Key}");
            foreach (var key in failed.Keys.Where(k => k.StartsWith("bad/") && !k.Contains('\0')))
                Assert.False(await node.Handles.Index.Ask<object>(new Storage.IndexProtocol.GetManifest("small", key), TimeSpan.FromSeconds(10))
                    is Storage.IndexProtocol.ManifestFound, $"node {node.Index + 1} has {key}");
            var listed = (await Within(node.Client.ListAsync("small", ""))).Objects.Select(o => o.Key).ToList();
            Assert.Equal(stored.Select(s => s.Key).Order(StringComparer.Ordinal), listed);
        }
        foreach (var node in Cluster.Nodes.Skip(1)) Assert.DoesNotContain(brokenChunk, node.ChunkIds());
    }

    private static bool IndexAnswers(TestCluster.Node node)
    {
        try
        {
            // While it restarts its supervisor answers a StoreError: only a count is the index itself.
            var asked = node.Handles.Index.Ask<object>(Storage.IndexProtocol.CountObjects.Instance, TimeSpan.FromSeconds(1));
            return asked.Wait(TimeSpan.FromSeconds(2)) && asked.Result is Storage.IndexProtocol.ObjectCount;
        }
        catch (AggregateException)
        {
            return false;
        }
    }

    [Fact]
    public async Task A_batch_whose_reply_might_not_fit_a_frame_is_refused_whole_and_stores_nothing()
    {
        Cluster = new TestCluster(ClusterRoot, factor: 1, quorum: 1);
        await Cluster.StartAsync(1);
        var client = Cluster.Nodes[0].Client;
        // 15 objects of 4 KiB with their keys cost more than one 64 KiB frame (Protocol/SmallBatches.cs).
        var objects = Enumerable.Range(0, 15).Select(i => new PutSmallObject("small", $"k{i}", Random4K(i))).ToList();
        Assert.True(objects.Sum(o => Protocol.SmallBatches.Cost(o.Data.Length, o.Key)) > Cluster.Settings.FrameSize);

        var refused = await Assert.ThrowsAsync<Client.StoreException>(() => Within(client.PutSmallBatchAsync(objects)));
        Assert.Equal(StoreErrorCode.InvalidRequest, refused.Code);
        Assert.Contains("nothing was stored", refused.Message);
        foreach (var o in objects)
            Assert.False(await Cluster.Nodes[0].Handles.Index.Ask<object>(new Storage.IndexProtocol.GetManifest("small", o.Key), TimeSpan.FromSeconds(10))
                is Storage.IndexProtocol.ManifestFound);

        var longKeys = Enumerable.Range(0, 64).Select(i => $"{i}/{new string('k', 1000)}").ToList();
        var tooMany = await Assert.ThrowsAsync<Client.StoreException>(() => Within(client.GetSmallBatchAsync("small", longKeys)));
        Assert.Equal(StoreErrorCode.InvalidRequest, tooMany.Code);
    }

    [Fact]
    public async Task A_pushed_batch_with_a_forged_chunk_stores_the_genuine_ones_and_refuses_that_one()
    {
        Cluster = new TestCluster(ClusterRoot, factor: 1, quorum: 1);
        await Cluster.StartAsync(1);
        var node = Cluster.Nodes[0];
        var peer = CreateTestProbe(node.System); // stands in for another node pushing chunks
        var genuine = Random4K(1);
        var forged = Random4K(2);
        var claimed = ContentHash.Compute(Random4K(3)); // the id says one thing, the bytes another

        node.System.ActorSelection($"/user/{ChunkEndpoint.Name}").Tell(new StoreChunks(9, [
            new InlineChunk(ContentHash.Compute(genuine), "upload-test", genuine),
            new InlineChunk(claimed, "upload-test", forged),
            new InlineChunk(ContentHash.Compute([]), "upload-test", Array.Empty<byte>()),
        ]), peer.Ref);

        var reply = peer.ExpectMsg<ChunksStored>(m => m.TransferId == 9, TimeSpan.FromSeconds(10));
        Assert.Equal(3, reply.Outcomes.Count);
        Assert.Null(reply.Outcomes[0].Failure);
        Assert.Equal(StoreErrorCode.Corrupt, reply.Outcomes[1].Code);
        Assert.Contains("do not hash to the chunk's id", reply.Outcomes[1].Failure);
        Assert.Equal(StoreErrorCode.InvalidRequest, reply.Outcomes[2].Code);
        Assert.True(node.Handles.Chunks.Contains(ContentHash.Compute(genuine)));
        Assert.False(node.Handles.Chunks.Contains(claimed));
        Assert.False(node.Handles.Chunks.Contains(ContentHash.Compute(forged)));
    }

    [Fact]
    public async Task Put_r_names_the_small_file_a_batch_could_not_store_and_get_r_brings_back_the_others_in_batches()
    {
        var tree = Path.Combine(ClusterRoot, "tree");
        Directory.CreateDirectory(Path.Combine(tree, "sub"));
        for (var i = 0; i < 12; i++) File.WriteAllBytes(Path.Combine(tree, i % 2 == 0 ? "sub" : "", $"f{i:D2}"), Random4K(200 + i));
        File.WriteAllBytes(Path.Combine(tree, "bad"), Random4K(7));
        var faults = Enumerable.Range(0, 3).Select(i => new Faults(i == 0 ? default : ContentHash.Compute(Random4K(7)), "")).ToList();
        Cluster = new TestCluster(ClusterRoot, factor: 3, quorum: 2, lateCopyGrace: TimeSpan.FromSeconds(10));
        await Cluster.StartAsync(3, i => faults[i]);
        var output = new RecordingOutput();
        var shell = new Shell.ShellCommands(Cluster.Nodes[0].Client, output);

        Assert.Equal(Shell.ShellOutcome.Failed, await Within(shell.RunAsync($"put -r '{tree}' small/t")));

        Assert.Contains(output.Errors, e => e.Contains("put of small/t/bad failed") && e.Contains("nothing was stored"));
        Assert.Contains(output.Errors, e => e.Contains("1 of 13 objects in a batch were not stored"));
        Assert.Equal(12, output.Lines.Count(l => l.StartsWith("put small/t/") && l.Contains("stored on 3 of 3 nodes")));
        var listed = (await Within(Cluster.Nodes[1].Client.ListAsync("small", "t/"))).Objects.Select(o => o.Key).ToList();
        Assert.Equal(12, listed.Count);
        Assert.DoesNotContain("t/bad", listed);

        var back = Path.Combine(ClusterRoot, "back");
        output.Lines.Clear();
        Assert.Equal(Shell.ShellOutcome.Ok, await Within(new Shell.ShellCommands(Cluster.Nodes[2].Client, output).RunAsync($"get -r small/t '{back}'")));
        foreach (var file in Directory.EnumerateFiles(tree, "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(f) != "bad"))
            Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(back, Path.GetRelativePath(tree, file))));
        Assert.Equal(12, Directory.EnumerateFiles(back, "*", SearchOption.AllDirectories).Count());
    }

    [LinuxFact]
    public async Task A_put_r_on_a_nodes_machine_hands_over_files_of_up_to_a_chunk_and_every_owner_gets_each()
    {
        // Chunks of at least 200 KiB: files of up to that are one chunk each and go in the batches the node reads
        // itself, those above a frame pushed to the peers one by one.
        Cluster = new TestCluster(ClusterRoot, factor: 3, quorum: 2, lateCopyGrace: TimeSpan.FromSeconds(10),
            chunking: StoreTestKit.SmallChunks with { MinSize = 200 * 1024, AverageSize = 256 * 1024, MaxSize = 1024 * 1024 });
        await Cluster.StartAsync(3);
        var tree = Path.Combine(ClusterRoot, "tree");
        Directory.CreateDirectory(tree);
        var files = Enumerable.Range(0, 24).Select(i => (Name: $"f{i}", Bytes: RandomBytes(1_000 + i * 8_000, 500 + i))).ToList();
        foreach (var (name, bytes) in files) File.WriteAllBytes(Path.Combine(tree, name), bytes);
        var output = new RecordingOutput();

        Assert.Equal(Shell.ShellOutcome.Ok, await Within(new Shell.ShellCommands(Cluster.Nodes[0].Client, output).RunAsync($"put -r '{tree}' small/t")));

        Assert.Empty(output.Errors);
        Assert.Equal(1, Cluster.Nodes[0].Handles.DataPlane!.HandOvers); // 24 files, 2.2 MB: one batch
        await AwaitAssertAsync(() =>
        {
            foreach (var node in Cluster.Nodes)
                foreach (var (_, bytes) in files)
                    Assert.True(File.Exists(node.Handles.Chunks.PathOf(ContentHash.Compute(bytes))), $"a chunk of {bytes.Length} bytes missing on node {node.Index}");
        }, TimeSpan.FromSeconds(15));
        var back = Path.Combine(ClusterRoot, "back");
        Assert.Equal(Shell.ShellOutcome.Ok, await Within(new Shell.ShellCommands(Cluster.Nodes[2].Client, output).RunAsync($"get -r small/t '{back}'")));
        foreach (var (name, bytes) in files) Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(back, name)));
    }
}
