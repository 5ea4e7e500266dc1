using Akka.Actor;
using ObjectStore.Actors.Client;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Storage;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Tests;

/// <summary>
/// The durability promise and the repair queue, on several nodes in one process (<see cref="TestCluster"/>):
/// a put is answered at the quorum and says what it lacks, and the missing copies arrive by themselves.
/// </summary>
public sealed class SelfHealingTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "objectstore-healing-tests", Guid.NewGuid().ToString("N"));
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

    private static async Task<T> Within<T>(Task<T> task, int seconds = 60) => await task.WaitAsync(TimeSpan.FromSeconds(seconds));

    /// <summary>A disk that hangs: every chunk write and index commit waits until the gate opens, as under kill -STOP.</summary>
    private sealed class FrozenDisk : IStorageFaults
    {
        public readonly ManualResetEventSlim Gate = new(false);
        public int Waiting;

        private void Wait()
        {
            Interlocked.Increment(ref Waiting);
            Gate.Wait(TimeSpan.FromSeconds(60));
        }

        public void BeforeWrite(ContentHash id) => Wait();
        public void BeforeRename(ContentHash id) { }
        public void BeforeRead(ContentHash id) { }
        public void BeforeCommit(string bucket, string key) => Wait();
    }

    [Fact]
    public async Task A_put_with_a_frozen_owner_is_answered_at_the_quorum_says_so_and_the_copy_arrives_once_it_thaws()
    {
        var frozen = new FrozenDisk();
        _cluster = new TestCluster(_root, factor: 3, quorum: 2);
        try
        {
            await _cluster.StartAsync(3, faults: i => i == 2 ? frozen : null);
            var (a, c) = (_cluster.Nodes[0], _cluster.Nodes[2]);
            var file = WriteRandomFile("in", 1_500_000, 1);

            var put = await Within(a.Client.PutFileAsync(file, "photos", "frozen"), 30);

            Assert.Equal((2, 3, 1), (put.Copies, put.Factor, put.Queued));
            Assert.Equal("stored on 2 of 3 nodes; 1 copy queued", put.Durability);
            Assert.True(frozen.Waiting > 0, "the frozen node should have been asked to write");
            var queued = await TestCluster.RepairStatusAsync(a);
            Assert.Equal(1, queued.Backlog[c.Id].Entries);
            // `status` shows the same, from any node.
            var health = (await Within(_cluster.Nodes[1].Client.HealthAsync())).Nodes;
            Assert.Equal(3, health.Count);
            var fromA = health.Single(h => h.NodeId == a.Id);
            Assert.Equal((1L, put.Object.Size), (fromA.CopiesQueued, fromA.BytesQueued));
            Assert.Equal(c.Id, Assert.Single(fromA.Backlog).NodeId);
            Assert.NotNull(fromA.SecondsLeft);
            Assert.StartsWith("1 copy queued on 1 node(s)", Shell.HealthReport.Lines(health, DateTimeOffset.UtcNow).First());
            using (var json = System.Text.Json.JsonDocument.Parse(Shell.HealthReport.ToJson(new ClusterHealth(health), DateTimeOffset.UtcNow)))
                Assert.Equal(1, json.RootElement.GetProperty("copiesQueued").GetInt64());
            Assert.False(await TestCluster.HoldsVersionAsync(c, "photos", "frozen", put.Object.VersionId));

            frozen.Gate.Set();
            await TestCluster.WaitUntil(() => TestCluster.HoldsVersionAsync(c, "photos", "frozen", put.Object.VersionId).Result,
                "the thawed node holds the object's metadata");
            var chunkIds = (await Within(a.Client.StatAsync("photos", "frozen"))).Chunks.Select(ch => ch.Id).ToHashSet();
            await TestCluster.WaitUntil(() => chunkIds.IsSubsetOf(c.ChunkIds()), "the thawed node holds every chunk");
            await TestCluster.WaitUntil(() => TestCluster.RepairStatusAsync(a).Result.Entries == 0, "the repair queue is empty");
            var done = await TestCluster.RepairStatusAsync(a);
            Assert.True(done.CopiesMade >= 1);
            Assert.StartsWith("every copy in place", Shell.HealthReport.Lines((await Within(a.Client.HealthAsync())).Nodes, DateTimeOffset.UtcNow).First());
            var target = Path.Combine(_root, "work", "out");
            await Within(c.Client.GetFileAsync("photos", "frozen", target));
            Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(target));
        }
        finally
        {
            frozen.Gate.Set();
        }
    }

    [Fact]
    public async Task A_cluster_smaller_than_the_factor_answers_at_the_quorum_and_a_node_that_joins_gets_the_missing_copy()
    {
        _cluster = new TestCluster(_root, factor: 3, quorum: 2);
        await _cluster.StartAsync(2);
        var a = _cluster.Nodes[0];
        var file = WriteRandomFile("in", 600_000, 2);

        var put = await Within(a.Client.PutFileAsync(file, "photos", "short"));

        Assert.Equal("stored on 2 of 3 nodes; 1 copy queued", put.Durability);
        Assert.Equal(1, (await TestCluster.RepairStatusAsync(a)).Backlog[""].Entries);

        var c = await _cluster.AddNodeAsync();
        await TestCluster.WaitUntil(() => TestCluster.HoldsVersionAsync(c, "photos", "short", put.Object.VersionId).Result,
            "the new node holds the object's metadata");
        var stat = await Within(a.Client.StatAsync("photos", "short"));
        await TestCluster.WaitUntil(() => stat.Chunks.Select(ch => ch.Id).ToHashSet().IsSubsetOf(c.ChunkIds()), "the new node holds every chunk");
        await TestCluster.WaitUntil(() => TestCluster.RepairStatusAsync(a).Result.Entries == 0, "the repair queue is empty");
    }

    [Fact]
    public async Task With_fewer_reachable_nodes_than_the_quorum_a_put_fails_at_once_with_the_quorum_named()
    {
        _cluster = new TestCluster(_root, factor: 3, quorum: 2);
        await _cluster.StartAsync(2);
        var (a, b) = (_cluster.Nodes[0], _cluster.Nodes[1]);
        await _cluster.CrashAsync(b);

        var error = await Assert.ThrowsAsync<StoreException>(() => Within(a.Client.PutFileAsync(WriteRandomFile("x", 300_000, 3), "photos", "x"), 20));

        Assert.Equal(StoreErrorCode.Unavailable, error.Code);
        Assert.Contains("1 storage node(s) can take it and the write quorum is 2", error.Message);
        Assert.Contains("nothing was stored", error.Message);
        Assert.Empty((await Within(a.Client.ListAsync("photos", ""))).Objects);
    }

    /// <summary>For each chunk of the object: how many of the running nodes hold it.</summary>
    private async Task<IReadOnlyList<int>> LiveCopiesAsync(TestCluster.Node via, string bucket, string key)
    {
        var stat = await Within(via.Client.StatAsync(bucket, key));
        var held = _cluster.Running.Select(n => n.ChunkIds()).ToList();
        return stat.Chunks.DistinctBy(c => c.Id).Select(c => held.Count(h => h.Contains(c.Id))).ToList();
    }

    [Fact]
    public async Task A_node_killed_and_removed_leaves_no_chunk_short_the_survivors_copy_it_to_the_new_owners_by_themselves()
    {
        // Puts wait for every copy, so the node killed surely holds its own first.
        _cluster = new TestCluster(_root, factor: 3, quorum: 2, lateCopyGrace: TimeSpan.FromSeconds(10));
        await _cluster.StartAsync(4);
        var (a, d) = (_cluster.Nodes[0], _cluster.Nodes[3]);
        var files = Enumerable.Range(0, 3).Select(i => WriteRandomFile($"f{i}", 700_000 + i * 100_000, 10 + i)).ToList();
        var puts = new List<PutCompleted>();
        for (var i = 0; i < files.Count; i++) puts.Add(await Within(a.Client.PutFileAsync(files[i], "photos", $"f{i}")));
        Assert.All(puts, p => Assert.True(p.Copies >= 2 && p.Factor == 3, p.Durability));
        Assert.True(d.ChunkIds().Count > 0, "the node to be killed should hold some chunks");

        await _cluster.CrashAsync(d);
        await _cluster.RemoveAsync(d);

        foreach (var i in Enumerable.Range(0, files.Count))
            await TestCluster.WaitUntil(() => LiveCopiesAsync(a, "photos", $"f{i}").Result.All(n => n == 3), $"every chunk of f{i} is on 3 live nodes", 60);
        foreach (var node in _cluster.Running)
        foreach (var (file, i) in files.Select((f, i) => (f, i)))
        {
            var target = Path.Combine(_root, "work", $"out-{node.Index}-{i}");
            await Within(node.Client.GetFileAsync("photos", $"f{i}", target));
            Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(target));
        }
        await TestCluster.WaitUntil(() => _cluster.Running.All(n => TestCluster.RepairStatusAsync(n).Result.Entries == 0), "every repair queue is empty");
    }

    [Fact]
    public async Task A_node_down_during_50_puts_and_10_deletes_catches_up_by_itself_and_deleted_objects_stay_deleted()
    {
        _cluster = new TestCluster(_root, factor: 3, quorum: 2);
        await _cluster.StartAsync(3);
        var (a, c) = (_cluster.Nodes[0], _cluster.Nodes[2]);
        for (var i = 0; i < 5; i++) await Within(a.Client.PutFileAsync(WriteRandomFile($"early{i}", 20_000 + i * 7_000, 20 + i), "docs", $"early-{i}"));

        await _cluster.CrashAsync(c);
        await _cluster.RemoveAsync(c);
        var puts = Enumerable.Range(0, 50).Select(i => a.Client.PutFileAsync(WriteRandomFile($"late{i}", 5_000 + i * 3_000, 100 + i), "docs", $"late-{i:00}"));
        foreach (var batch in puts.Chunk(10)) await Within(Task.WhenAll(batch));
        // Ten deletes: two of objects the node had before it went down, eight of objects it never saw.
        var deleted = new[] { "early-0", "early-1" }.Concat(Enumerable.Range(0, 8).Select(i => $"late-{i:00}")).ToList();
        foreach (var key in deleted) await Within(a.Client.DeleteAsync("docs", key));

        c = await _cluster.RestartAsync(c);

        var expected = Enumerable.Range(2, 3).Select(i => $"early-{i}").Concat(Enumerable.Range(8, 42).Select(i => $"late-{i:00}")).ToList();
        var versions = new Dictionary<string, string>();
        foreach (var key in expected) versions[key] = (await Within(a.Client.StatAsync("docs", key))).Object.VersionId;
        await TestCluster.WaitUntil(() => expected.All(key => TestCluster.HoldsVersionAsync(c, "docs", key, versions[key]).Result),
            "the returned node holds every object it should", 60);
        foreach (var key in deleted.Take(2))
            await TestCluster.WaitUntil(() => c.Handles.Index.Ask<object>(new Storage.IndexProtocol.GetManifest("docs", key), TimeSpan.FromSeconds(5)).Result
                is Protocol.StoreProtocol.StoreError, $"the delete of {key} it missed reaches the returned node", 60);
        foreach (var node in _cluster.Running)
            Assert.Equal(expected.Order(StringComparer.Ordinal), (await Within(node.Client.ListAsync("docs", ""))).Objects.Select(o => o.Key));
        await TestCluster.WaitUntil(() => LiveCopiesAsync(a, "docs", "late-45").Result.All(n => n == 3), "late-45's chunks are on all three nodes", 60);
    }

    /// <summary>For every distinct chunk of the objects: the running nodes holding it.</summary>
    private async Task<Dictionary<ContentHash, List<string>>> HoldersAsync(TestCluster.Node via, string bucket, IEnumerable<string> keys)
    {
        var ids = new HashSet<ContentHash>();
        foreach (var key in keys) ids.UnionWith((await Within(via.Client.StatAsync(bucket, key))).Chunks.Select(c => c.Id));
        var held = _cluster.Running.Select(n => (n.Id, Chunks: n.ChunkIds())).ToList();
        return ids.ToDictionary(id => id, id => held.Where(h => h.Chunks.Contains(id)).Select(h => h.Id).ToList());
    }

    private bool OnExactlyTheirOwners(Dictionary<ContentHash, List<string>> holders) =>
        holders.All(h => h.Value.Order(StringComparer.Ordinal).SequenceEqual(_cluster.OwnersOf(h.Key, 3).Order(StringComparer.Ordinal)));

    [Fact]
    public async Task A_fifth_node_that_joins_receives_a_fifth_of_the_copies_no_chunk_drops_below_the_factor_and_no_non_owner_keeps_one()
    {
        _cluster = new TestCluster(_root, factor: 3, quorum: 2);
        await _cluster.StartAsync(4);
        var a = _cluster.Nodes[0];
        var keys = Enumerable.Range(0, 4).Select(i => $"f{i}").ToList();
        for (var i = 0; i < keys.Count; i++) await Within(a.Client.PutFileAsync(WriteRandomFile(keys[i], 1_500_000, 40 + i), "photos", keys[i]));
        var before = await HoldersAsync(a, "photos", keys);
        Assert.True(before.Count >= 60, $"{before.Count} chunks: too few to measure a share");
        Assert.True(OnExactlyTheirOwners(before));

        var e = await _cluster.AddNodeAsync();
        var lowest = int.MaxValue;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        Dictionary<ContentHash, List<string>> now;
        do
        {
            now = await HoldersAsync(a, "photos", keys);
            lowest = Math.Min(lowest, now.Values.Min(h => h.Count));
            if (OnExactlyTheirOwners(now)) break;
            await Task.Delay(100);
        } while (DateTime.UtcNow < deadline);

        Assert.True(OnExactlyTheirOwners(now), "every chunk should end on exactly its owners among the five nodes");
        Assert.Equal(3, lowest);
        var share = now.Values.Count(h => h.Contains(e.Id)) / (double)now.Values.Sum(h => h.Count);
        Assert.InRange(share, 0.2 * 0.7, 0.2 * 1.3);
        var target = Path.Combine(_root, "work", "from-e");
        await Within(e.Client.GetFileAsync("photos", "f0", target));
        Assert.Equal(File.ReadAllBytes(Path.Combine(_root, "work", "f0")), File.ReadAllBytes(target));
    }

    /// <summary>A disk that fails every write while <see cref="Broken"/> is set, then recovers.</summary>
    private sealed class FlakyDisk : IStorageFaults
    {
        public volatile bool Broken = true;

        public void BeforeWrite(ContentHash id)
        {
            if (Broken) throw new IOException("simulated disk error");
        }

        public void BeforeRename(ContentHash id) { }
        public void BeforeRead(ContentHash id) { }
        public void BeforeCommit(string bucket, string key) { }
    }

    [Fact]
    public async Task A_chunk_handed_off_while_its_owner_cannot_write_goes_home_once_it_can_and_leaves_the_stand_in()
    {
        var flaky = new FlakyDisk();
        _cluster = new TestCluster(_root, factor: 3, quorum: 2);
        await _cluster.StartAsync(4, faults: i => i == 3 ? flaky : null);
        var (a, sick) = (_cluster.Nodes[0], _cluster.Nodes[3]);
        var put = await Within(a.Client.PutFileAsync(WriteRandomFile("in", 2_000_000, 50), "photos", "x"));
        var during = await HoldersAsync(a, "photos", ["x"]);
        var handedOff = during.Where(h => _cluster.OwnersOf(h.Key, 3).Contains(sick.Id)).ToList();
        Assert.NotEmpty(handedOff);
        // At the quorum at least; the third copy is a hand-off, or queued if the stand-in was slow.
        Assert.All(handedOff, h => Assert.True(h.Value.Count >= 2));
        Assert.Empty(sick.ChunkIds());
        Assert.True(put.Queued >= 1, put.Durability);
        // `status` shows the shortfall: copies queued for the node whose disk fails, with its error.
        var health = (await Within(a.Client.HealthAsync())).Nodes.Single(h => h.NodeId == a.Id);
        Assert.Contains(health.Backlog, b => b.NodeId == sick.Id && b.Copies >= 1);

        flaky.Broken = false;

        await TestCluster.WaitUntil(() => OnExactlyTheirOwners(HoldersAsync(a, "photos", ["x"]).Result), "every chunk is on exactly its owners", 60);
        Assert.True(await TestCluster.HoldsVersionAsync(sick, "photos", "x", put.Object.VersionId));
    }

    private static bool Intact(TestCluster.Node node, ContentHash id) =>
        File.Exists(node.Handles.Chunks.PathOf(id)) && ContentHash.Compute(File.ReadAllBytes(node.Handles.Chunks.PathOf(id))) == id;

    [Fact]
    public async Task Ten_chunks_corrupted_on_one_node_are_all_found_by_the_scrubber_and_repaired_from_the_others()
    {
        // Anti-entropy would notice the quarantined chunks too: here only the scrubber's repairs may restore them.
        // Puts wait for every copy, so node 3 surely holds the ten chunks corrupted below.
        _cluster = new TestCluster(_root, factor: 3, quorum: 2, antiEntropy: TimeSpan.FromHours(1), lateCopyGrace: TimeSpan.FromSeconds(10));
        await _cluster.StartAsync(3);
        var (a, c) = (_cluster.Nodes[0], _cluster.Nodes[2]);
        await Within(a.Client.PutFileAsync(WriteRandomFile("in", 1_500_000, 60), "photos", "scrubbed"));
        var chunks = c.ChunkIds().Take(10).ToList();
        Assert.Equal(10, chunks.Count);
        foreach (var id in chunks) c.CorruptChunk(id);
        Assert.All(chunks, id => Assert.False(Intact(c, id)));

        c.System.ActorSelection($"/user/{Replication.Repair.ScrubberActor.Name}").Tell(Replication.Repair.ScrubberActor.StartPass.Instance);

        await TestCluster.WaitUntil(() => chunks.All(id => Intact(c, id)), "every corrupted chunk is whole again on its node", 60);
        var status = await c.System.ActorSelection($"/user/{Replication.Repair.ScrubberActor.Name}")
            .Ask<Replication.Repair.ScrubberActor.ScrubStatus>(Replication.Repair.ScrubberActor.GetScrubStatus.Instance, TimeSpan.FromSeconds(10));
        Assert.Equal(10, status.CorruptFound);
        Assert.Equal(10, c.Handles.Chunks.QuarantinedCount());
    }

    [Fact]
    public async Task A_get_that_meets_a_corrupt_replica_is_served_from_another_and_queues_its_repair()
    {
        _cluster = new TestCluster(_root, factor: 3, quorum: 2, antiEntropy: TimeSpan.FromHours(1));
        await _cluster.StartAsync(3);
        var a = _cluster.Nodes[0];
        var file = WriteRandomFile("in", 400_000, 61);
        await Within(a.Client.PutFileAsync(file, "photos", "read-repaired"));
        var id = a.ChunkIds().First();
        a.CorruptChunk(id);

        var target = Path.Combine(_root, "work", "out");
        await Within(a.Client.GetFileAsync("photos", "read-repaired", target));

        Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(target));
        await TestCluster.WaitUntil(() => Intact(a, id), "the corrupt replica is replaced", 30);
    }

    [Fact]
    public async Task A_graceful_leave_of_one_of_five_drains_first_and_no_chunk_drops_below_the_factor()
    {
        // Puts wait for every copy (not 300 ms after the quorum), so node 5 surely holds its own before it leaves.
        _cluster = new TestCluster(_root, factor: 3, quorum: 2, lateCopyGrace: TimeSpan.FromSeconds(10));
        await _cluster.StartAsync(5);
        var (a, d) = (_cluster.Nodes[0], _cluster.Nodes[4]);
        var keys = Enumerable.Range(0, 3).Select(i => $"f{i}").ToList();
        for (var i = 0; i < keys.Count; i++) await Within(a.Client.PutFileAsync(WriteRandomFile(keys[i], 1_000_000, 70 + i), "photos", keys[i]));
        Assert.NotEmpty(d.ChunkIds());
        var dAddress = d.Address;
        var rest = _cluster.Nodes.Take(4).ToList();

        var accepted = await Within(d.Client.LeaveAsync());
        Assert.Equal(d.Id, accepted.NodeId);
        Assert.True(accepted.Objects > 0);

        var lowest = int.MaxValue;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            // Copies on every node still running, the leaving one included while it holds them.
            lowest = Math.Min(lowest, (await HoldersAsync(a, "photos", keys)).Values.Min(h => h.Count));
            if (rest.All(n => Akka.Cluster.Cluster.Get(n.System).State.Members.All(m => m.Address != dAddress))) break;
            await Task.Delay(100);
        }
        Assert.True(rest.All(n => Akka.Cluster.Cluster.Get(n.System).State.Members.All(m => m.Address != dAddress)),
            "the drained node should have left the cluster");
        Assert.True(lowest >= 3, $"a chunk was down to {lowest} cop(ies) during the drain");
        Assert.Empty(d.ChunkIds());
        var holders = await HoldersAsync(a, "photos", keys);
        var remaining = rest.Select(n => (n.Id, Chunks: n.ChunkIds())).ToList();
        Assert.All(holders.Keys, id => Assert.Equal(3, remaining.Count(r => r.Chunks.Contains(id))));
        var target = Path.Combine(_root, "work", "after-leave");
        await Within(a.Client.GetFileAsync("photos", "f1", target));
        Assert.Equal(File.ReadAllBytes(Path.Combine(_root, "work", "f1")), File.ReadAllBytes(target));
    }

    [Fact]
    public async Task A_leave_that_would_leave_fewer_nodes_than_the_factor_is_refused_and_changes_nothing()
    {
        _cluster = new TestCluster(_root, factor: 3, quorum: 2);
        await _cluster.StartAsync(3);
        var a = _cluster.Nodes[0];

        var refused = await Assert.ThrowsAsync<StoreException>(() => Within(a.Client.LeaveAsync()));

        Assert.Equal(StoreErrorCode.InvalidRequest, refused.Code);
        Assert.Contains("leaving would leave 2 storage node(s) for a replication factor of 3", refused.Message);
        Assert.DoesNotContain((await Within(a.Client.HealthAsync())).Nodes, n => n.Draining);
        Assert.Equal(3, (await Within(a.Client.MembersAsync())).Members.Count);
    }
}
