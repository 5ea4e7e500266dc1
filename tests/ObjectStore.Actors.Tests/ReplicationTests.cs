using Akka.Actor;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using ObjectStore.Actors.Client;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Storage;

namespace ObjectStore.Actors.Tests;

/// <summary>Several nodes in one process (see <see cref="TestCluster"/>): placement, quorum, failover, hand-off.</summary>
public sealed class ReplicationTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "objectstore-replication-tests", Guid.NewGuid().ToString("N"));
    private TestCluster _cluster = null!;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }

    private string WriteRandomFile(string name, int size, int seed)
    {
        var data = new byte[size];
        new Random(seed).NextBytes(data);
        var path = Path.Combine(_root, "work", name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, data);
        return path;
    }

    private string OutPath(string name) => Path.Combine(_root, "work", name);

    private static async Task<T> Within<T>(Task<T> task, int seconds = 60) => await task.WaitAsync(TimeSpan.FromSeconds(seconds));

    [Fact]
    public async Task A_put_lands_on_exactly_factor_owners_and_any_node_serves_it()
    {
        _cluster = new TestCluster(_root, factor: 3, quorum: 2);
        await _cluster.StartAsync(4);
        var file = WriteRandomFile("in", 3_000_000, 1);

        var put = await Within(_cluster.Nodes[0].Client.PutFileAsync(file, "photos", "cat.jpg"));

        var details = await Within(_cluster.Nodes[2].Client.StatAsync("photos", "cat.jpg"));
        Assert.Equal(put.Object.VersionId, details.Object.VersionId);
        Assert.True(details.Chunks.Count > 10, $"expected many chunks, got {details.Chunks.Count}");
        foreach (var chunk in details.Chunks)
        {
            var owners = _cluster.OwnersOf(chunk.Id, 3).Order(StringComparer.Ordinal).ToList();
            var onDisk = _cluster.Nodes.Where(n => n.ChunkIds().Contains(chunk.Id)).Select(n => n.Id).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(owners, onDisk);
            Assert.Equal(owners, chunk.Nodes);
        }
        foreach (var node in _cluster.Nodes)
        {
            var target = OutPath($"out-{node.Index}");
            await Within(node.Client.GetFileAsync("photos", "cat.jpg", target));
            Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(target));
            Assert.Equal(["cat.jpg"], (await Within(node.Client.ListAsync("photos", ""))).Objects.Select(o => o.Key));
        }
    }

    [Fact]
    public async Task With_one_of_three_nodes_down_puts_and_gets_work_and_with_two_down_a_put_fails_on_quorum_and_stores_nothing()
    {
        _cluster = new TestCluster(_root, factor: 3, quorum: 2);
        await _cluster.StartAsync(3);
        var (a, b, c) = (_cluster.Nodes[0], _cluster.Nodes[1], _cluster.Nodes[2]);
        var before = WriteRandomFile("before", 1_000_000, 2);
        await Within(a.Client.PutFileAsync(before, "photos", "before"));

        await _cluster.CrashAsync(c);
        var during = WriteRandomFile("during", 1_000_000, 3);
        var put = await Within(b.Client.PutFileAsync(during, "photos", "during"));
        foreach (var node in new[] { a, b })
        {
            foreach (var (key, source) in new[] { ("before", before), ("during", during) })
            {
                var target = OutPath($"{key}-{node.Index}");
                await Within(node.Client.GetFileAsync("photos", key, target));
                Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(target));
            }
        }
        var stat = await Within(a.Client.StatAsync("photos", "during"));
        Assert.All(stat.Chunks, chunk => Assert.Equal(new[] { a.Id, b.Id }.Order(StringComparer.Ordinal), chunk.Nodes));

        await _cluster.CrashAsync(b);
        var chunksBefore = a.ChunkIds();
        var error = await Assert.ThrowsAsync<StoreException>(() =>
            Within(a.Client.PutFileAsync(WriteRandomFile("after", 1_000_000, 4), "photos", "after")));
        Assert.Equal(StoreErrorCode.Unavailable, error.Code);
        Assert.Contains("quorum", error.Message);
        Assert.Contains("photos/after", error.Message);

        Assert.Equal(["before", "during"], (await Within(a.Client.ListAsync("photos", ""))).Objects.Select(o => o.Key));
        var missing = await Assert.ThrowsAsync<StoreException>(() => Within(a.Client.StatAsync("photos", "after")));
        Assert.Equal(StoreErrorCode.NotFound, missing.Code);
        // The chunks the failed put stored on the one live node are given back.
        await TestCluster.WaitUntil(() => a.ChunkIds().SetEquals(chunksBefore), "the failed put's chunks are deleted");
        Assert.Equal(put.Object.ChunkCount, stat.Chunks.Count);
    }

    [Fact]
    public async Task A_manifest_larger_than_one_message_moves_between_nodes_in_pages()
    {
        // Pages of 8 chunk references (and stat pages of 2 chunks) stand in for the 2,000 that fit a frame.
        _cluster = new TestCluster(_root, factor: 3, quorum: 2, manifestPage: 8);
        await _cluster.StartAsync(3);
        var file = WriteRandomFile("in", 2_500_000, 7);

        var put = await Within(_cluster.Nodes[0].Client.PutFileAsync(file, "photos", "many-chunks"));
        Assert.True(put.Object.ChunkCount > 3 * 8, $"expected several pages of chunks, got {put.Object.ChunkCount}");

        foreach (var node in _cluster.Nodes.Skip(1))
        {
            var details = await Within(node.Client.StatAsync("photos", "many-chunks"));
            Assert.Equal(put.Object.ChunkCount, details.Chunks.Count);
            Assert.All(details.Chunks, c => Assert.Equal(3, c.Nodes.Count));
            var target = OutPath($"out-{node.Index}");
            await Within(node.Client.GetFileAsync("photos", "many-chunks", target));
            Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(target));
            var reply = await Within(Akka.Actor.Futures.Ask<object>(node.Handles.Index, new Storage.IndexProtocol.GetManifest("photos", "many-chunks"), TimeSpan.FromSeconds(10)));
            var manifest = Assert.IsType<Storage.IndexProtocol.ManifestFound>(reply).Manifest;
            Assert.Equal(put.Object.ChunkCount, manifest.Chunks.Count);
            // Stat pages past the first manifest page are fetched on their own: in order, none twice or left out.
            Assert.Equal(manifest.Chunks.Select(c => c.Id), details.Chunks.Select(c => c.Id));
        }
    }

    [Fact]
    public async Task A_listing_larger_than_one_message_comes_in_pages_from_every_node()
    {
        _cluster = new TestCluster(_root, factor: 3, quorum: 2);
        await _cluster.StartAsync(3);
        var file = WriteRandomFile("tiny", 100, 8);
        // 600 keys of 300 bytes: about 250 KB of listing, two frames' worth, held by every node.
        var keys = Enumerable.Range(0, 600).Select(i => $"{i:D4}/" + new string('k', 295)).ToList();
        foreach (var batch in keys.Chunk(32))
            await Within(Task.WhenAll(batch.Select(k => _cluster.Nodes[0].Client.PutFileAsync(file, "photos", k))));

        // A shell in its own actor system: every page crosses Akka.Remote and its frame limit.
        var shellSystem = Akka.Actor.ActorSystem.Create("shell", StoreTestKit.TestConfig);
        try
        {
            var address = Akka.Cluster.Cluster.Get(_cluster.Nodes[1].System).SelfAddress;
            var shell = await Within(StoreClient.ConnectAsync(shellSystem, address.Host!, address.Port!.Value, _cluster.Settings));
            var first = await Within(shell.ListAsync("photos", ""));
            Assert.True(first.Truncated);
            Assert.InRange(first.Objects.Count, 1, 400);
            var all = new List<string>();
            await foreach (var o in shell.ListAllAsync("photos", "")) all.Add(o.Key);
            Assert.Equal(keys, all);
        }
        finally
        {
            await shellSystem.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    [Fact]
    public async Task A_delete_that_a_node_missed_does_not_bring_the_object_back()
    {
        _cluster = new TestCluster(_root, factor: 3, quorum: 2);
        await _cluster.StartAsync(3);
        var (a, b, c) = (_cluster.Nodes[0], _cluster.Nodes[1], _cluster.Nodes[2]);
        var file = WriteRandomFile("in", 300_000, 9);
        await Within(a.Client.PutFileAsync(file, "photos", "gone"));
        var getManifest = new Storage.IndexProtocol.GetManifest("photos", "gone");
        var old = Assert.IsType<Storage.IndexProtocol.ManifestFound>(
            await Within(Akka.Actor.Futures.Ask<object>(c.Handles.Index, getManifest, TimeSpan.FromSeconds(10)))).Manifest;

        // The delete reaches a and b only, as when c is down during `rm`.
        var marker = Core.Metadata.DeleteMarker.New("photos", "gone", a.Id);
        foreach (var node in new[] { a, b })
        {
            var replicator = Replication.ClusterRing.ReplicasOf(a.System, Akka.Cluster.Cluster.Get(node.System).SelfAddress);
            Assert.IsType<ObjectDeleted>(await Within(replicator.Ask<object>(new ReplicaProtocol.DeleteLocal(marker), TimeSpan.FromSeconds(10))));
        }

        // Through c itself, which still has the object: not listed, not found.
        Assert.Empty((await Within(c.Client.ListAsync("photos", ""))).Objects);
        var error = await Assert.ThrowsAsync<StoreException>(() => Within(c.Client.GetFileAsync("photos", "gone", OutPath("out"))));
        Assert.Equal(StoreErrorCode.NotFound, error.Code);
        // ... and c has been told of the delete.
        await TestCluster.WaitUntil(() => Akka.Actor.Futures.Ask<object>(c.Handles.Index, getManifest, TimeSpan.FromSeconds(10)).Result is StoreError,
            "node c deletes its stale copy");

        // A late replica of the deleted version is refused where the delete landed.
        var late = await Within(Replication.ClusterRing.ReplicasOf(a.System, Akka.Cluster.Cluster.Get(a.System).SelfAddress)
            .Ask<object>(new ReplicaProtocol.CommitReplica(old, "late-upload"), TimeSpan.FromSeconds(10)));
        Assert.False(Assert.IsType<ReplicaProtocol.ReplicaCommitted>(late).Current);
        Assert.Empty((await Within(a.Client.ListAsync("photos", ""))).Objects);

        // A new put of the key is newer than the delete: back everywhere.
        await Within(c.Client.PutFileAsync(file, "photos", "gone"));
        foreach (var node in _cluster.Nodes)
            Assert.Equal(["gone"], (await Within(node.Client.ListAsync("photos", ""))).Objects.Select(o => o.Key));
    }

    /// <summary>Every chunk write on this node fails, as on a broken disk; counts the attempts per chunk.</summary>
    private sealed class BrokenDisk : IStorageFaults
    {
        public readonly System.Collections.Concurrent.ConcurrentDictionary<ContentHash, int> Attempts = new();

        public void BeforeWrite(ContentHash id)
        {
            Attempts.AddOrUpdate(id, 1, (_, n) => n + 1);
            throw new IOException("simulated disk error");
        }

        public void BeforeRename(ContentHash id) { }

        public void BeforeRead(ContentHash id) { }
        public void BeforeCommit(string bucket, string key) { }
    }

    [Fact]
    public async Task A_peer_whose_disk_fails_gets_each_transfer_retried_then_handed_off_and_the_object_stays_readable()
    {
        var broken = new BrokenDisk();
        // The put waits for the broken owner's retries to run out (a few hundred ms) instead of giving its
        // copy up as late after 300 ms, which on a loaded machine could come before the first attempt.
        _cluster = new TestCluster(_root, factor: 3, quorum: 2, lateCopyGrace: TimeSpan.FromSeconds(10));
        await _cluster.StartAsync(4, faults: i => i == 3 ? broken : null);
        var (entry, sick) = (_cluster.Nodes[0], _cluster.Nodes[3]);
        var file = WriteRandomFile("in", 2_000_000, 5);

        await Within(entry.Client.PutFileAsync(file, "photos", "x"));

        var details = await Within(entry.Client.StatAsync("photos", "x"));
        var handedOff = 0;
        foreach (var chunk in details.Chunks.DistinctBy(c => c.Id))
        {
            var order = _cluster.PlacementOrder(chunk.Id);
            var expected = order.Where(id => id != sick.Id).Take(3).Order(StringComparer.Ordinal).ToList();
            if (!order.Take(3).Contains(sick.Id))
            {
                Assert.Equal(expected, chunk.Nodes);
                continue;
            }
            handedOff++;
            // The two healthy owners, and the stand-in unless its copy came after the put had its quorum
            // (then the put queued the copy for the broken owner instead).
            Assert.Subset(expected.ToHashSet(), chunk.Nodes.ToHashSet());
            Assert.True(chunk.Nodes.Count >= 2);
            // One first attempt and MaxRetries retries, each reaching the broken disk, then the hand-off (and
            // then the repair queue's attempts to bring it home, which keep failing too).
            Assert.True(broken.Attempts.GetValueOrDefault(chunk.Id) >= _cluster.Settings.Replication.MaxRetries + 1,
                $"{broken.Attempts.GetValueOrDefault(chunk.Id)} attempts before the hand-off");
        }
        Assert.True(handedOff > 0, "some chunk should have the broken node among its owners");
        Assert.Empty(sick.ChunkIds());

        // The sick node serves the object too, from the other replicas.
        var target = OutPath("out");
        await Within(sick.Client.GetFileAsync("photos", "x", target));
        Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(target));
    }

    [Fact]
    public async Task A_corrupt_replica_is_quarantined_and_the_get_is_served_from_another()
    {
        _cluster = new TestCluster(_root, factor: 3, quorum: 2);
        await _cluster.StartAsync(3);
        var node = _cluster.Nodes[0];
        var file = WriteRandomFile("in", 800_000, 6);
        await Within(node.Client.PutFileAsync(file, "photos", "x"));
        var victim = Directory.GetFiles(node.ChunkDirectory, "*", SearchOption.AllDirectories)[0];
        var bytes = File.ReadAllBytes(victim);
        bytes[10] ^= 0xFF;
        File.WriteAllBytes(victim, bytes);

        var target = OutPath("out");
        await Within(node.Client.GetFileAsync("photos", "x", target));

        Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(target));
        Assert.Single(Directory.GetFiles(Path.Combine(node.Settings.DataDirectory, "quarantine")));
        // Read repair then brings a healthy copy back.
        var id = ContentHash.Parse(Path.GetFileName(victim));
        await TestCluster.WaitUntil(() => File.Exists(victim) && ContentHash.Compute(File.ReadAllBytes(victim)) == id, "the replica is whole again");
    }

    [Fact]
    public async Task A_large_get_whose_chunk_is_corrupt_on_the_first_replica_falls_back_to_the_next_and_the_file_is_whole()
    {
        _cluster = new TestCluster(_root, factor: 3, quorum: 2, antiEntropy: TimeSpan.FromHours(1));
        await _cluster.StartAsync(3);
        var node = _cluster.Nodes[0];
        // Larger than a window of frames: on this machine the node writes straight into the client's file.
        var file = WriteRandomFile("in", 5_000_000, 16);
        await Within(node.Client.PutFileAsync(file, "photos", "large"));
        var victims = Directory.GetFiles(node.ChunkDirectory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Take(2).ToList();
        foreach (var victim in victims)
        {
            var bytes = File.ReadAllBytes(victim);
            bytes[bytes.Length - 1] ^= 0xFF;
            File.WriteAllBytes(victim, bytes);
        }

        var target = OutPath("large-out");
        await Within(node.Client.GetFileAsync("photos", "large", target));

        Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(target));
        Assert.Equal(2, Directory.GetFiles(Path.Combine(node.Settings.DataDirectory, "quarantine")).Length);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(target)!, ".large-out.*"));
    }

    [Fact]
    public async Task Puts_of_one_key_through_different_nodes_leave_every_node_agreeing_on_the_last_writer()
    {
        _cluster = new TestCluster(_root, factor: 3, quorum: 2);
        await _cluster.StartAsync(3);
        var files = Enumerable.Range(0, 3).Select(i => WriteRandomFile($"v{i}", 200_000, 10 + i)).ToList();

        var puts = await Within(Task.WhenAll(_cluster.Nodes.Select((n, i) => n.Client.PutFileAsync(files[i], "photos", "same"))));

        var winner = puts.Select(p => p.Object)
            .Aggregate((x, y) => Core.Metadata.VersionOrder.IsNewer(y.CreatedUnixMs, y.Writer, y.VersionId, x.CreatedUnixMs, x.Writer, x.VersionId) ? y : x);
        foreach (var node in _cluster.Nodes)
        {
            Assert.Equal(winner.VersionId, (await Within(node.Client.StatAsync("photos", "same"))).Object.VersionId);
            var target = OutPath($"same-{node.Index}");
            await Within(node.Client.GetFileAsync("photos", "same", target));
            Assert.Equal(File.ReadAllBytes(files[puts.ToList().FindIndex(p => p.Object.VersionId == winner.VersionId)]), File.ReadAllBytes(target));
        }
        // Each node's own index holds the winner, whatever order the replicas arrived in.
        foreach (var node in _cluster.Nodes)
        {
            var reply = await Within(Akka.Actor.Futures.Ask<object>(node.Handles.Index, new Storage.IndexProtocol.GetManifest("photos", "same"), TimeSpan.FromSeconds(10)));
            Assert.Equal(winner.VersionId, Assert.IsType<Storage.IndexProtocol.ManifestFound>(reply).Manifest.VersionId);
        }
    }
}
