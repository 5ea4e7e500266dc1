using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Replication;
using ObjectStore.Actors.Transfer;
using ObjectStore.Core.Hashing;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;

namespace ObjectStore.Actors.Tests;

/// <summary>
/// A fetched chunk is hashed once, by the fetcher: the holder sends its copy unchecked
/// (<see cref="FetchChunk.FetcherChecks"/>) and checks it only when the fetcher found it wrong (CheckChunk),
/// which quarantines a corrupt copy there; bytes damaged on the way quarantine nothing.
/// </summary>
public sealed class FetcherChecksTests : ClusterTestKit
{
    [Fact]
    public async Task A_holder_sends_its_copy_unchecked_to_a_fetcher_that_checks_and_quarantines_it_only_when_asked_to_check()
    {
        Cluster = new TestCluster(ClusterRoot, factor: 1, quorum: 1);
        await Cluster.StartAsync(1);
        var node = Cluster.Nodes[0];
        await Within(node.Client.PutFileAsync(WriteRandomFile("a", 100_000, 1), "photos", "a"));
        await Within(node.Client.PutFileAsync(WriteRandomFile("b", 100_000, 2), "photos", "b"));
        var (a, b) = ((await Within(node.Client.StatAsync("photos", "a"))).Chunks[0].Id, (await Within(node.Client.StatAsync("photos", "b"))).Chunks[0].Id);
        var endpoint = node.System.ActorSelection($"/user/{ChunkEndpoint.Name}");
        var fetcher = CreateTestProbe(node.System);

        // A whole copy, asked to be checked (the bytes broke on the way): not corrupt, nothing quarantined.
        endpoint.Tell(new CheckChunk(1, a, fetcher.Ref), fetcher.Ref);
        var whole = fetcher.ExpectMsg<TransferFailed>(m => m.TransferId == 1, TimeSpan.FromSeconds(10));
        Assert.Equal(StoreErrorCode.Unavailable, whole.Code);
        Assert.Contains("whole here", whole.Reason);

        node.CorruptChunk(a);
        node.CorruptChunk(b);
        // A fetcher of an earlier version does not check: the holder does, and refuses its corrupt copy at once.
        endpoint.Tell(new FetchChunk(2, b, fetcher.Ref), fetcher.Ref);
        Assert.Equal(StoreErrorCode.Corrupt, fetcher.ExpectMsg<TransferFailed>(m => m.TransferId == 2, TimeSpan.FromSeconds(10)).Code);
        Assert.Equal(1, node.Handles.Chunks.QuarantinedCount());

        // A fetcher that checks gets the bytes as they are on disk, unhashed there...
        endpoint.Tell(new FetchChunk(3, a, fetcher.Ref, FetcherChecks: true), fetcher.Ref);
        var part = fetcher.ExpectMsg<ChunkPart>(m => m.TransferId == 3, TimeSpan.FromSeconds(10));
        Assert.Equal(0, part.Offset);
        Assert.Equal(1, node.Handles.Chunks.QuarantinedCount());
        // ...and, finding them wrong, has the holder check its copy: corrupt, now in quarantine.
        endpoint.Tell(new CheckChunk(4, a, fetcher.Ref), fetcher.Ref);
        Assert.Equal(StoreErrorCode.Corrupt, fetcher.FishForMessage<TransferFailed>(m => m.TransferId == 4, TimeSpan.FromSeconds(10)).Code);
        Assert.Equal(2, node.Handles.Chunks.QuarantinedCount());
        Assert.False(node.Handles.Chunks.Contains(a));
    }

    [Fact]
    public async Task A_truncated_copy_sent_unchecked_is_quarantined_on_its_holder_and_the_get_takes_the_next()
    {
        Cluster = new TestCluster(ClusterRoot, factor: 2, quorum: 2, antiEntropy: TimeSpan.FromHours(1), lateCopyGrace: TimeSpan.FromSeconds(10));
        await Cluster.StartAsync(3);
        var reader = Cluster.Nodes[0];
        var file = WriteRandomFile("in", 5_000_000, 8);
        await Within(Cluster.Nodes[1].Client.PutFileAsync(file, "photos", "short"));
        var chunks = (await Within(reader.Client.StatAsync("photos", "short"))).Chunks.Select(c => c.Id).ToList();
        // A chunk the reading node does not hold, cut short on the first of its owners (the first node a get asks):
        // the body it sends has the wrong length, so it never reaches the fetcher's hash check.
        var (far, first) = Cluster.FarChunk(reader, chunks, 2);
        var path = first.Handles.Chunks.PathOf(far);
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..^100]);

        var target = Path.Combine(WorkDirectory, "short-out");
        await Within(reader.Client.GetFileAsync("photos", "short", target));

        Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(target));
        Assert.Equal(1, first.Handles.Chunks.QuarantinedCount());
        // Read repair then brings a whole copy back to that owner.
        await TestCluster.WaitUntil(() => File.Exists(path) && ContentHash.Compute(File.ReadAllBytes(path)) == far, "the owner's copy is whole again");
    }

    [Fact]
    public async Task A_chunk_damaged_on_the_way_is_taken_from_the_next_holder_and_no_whole_copy_is_quarantined()
    {
        var damage = 0; // 1: damage the next body any node sends
        var damaged = 0;
        Cluster = new TestCluster(ClusterRoot, factor: 2, quorum: 2, antiEntropy: TimeSpan.FromHours(1), lateCopyGrace: TimeSpan.FromSeconds(10));
        await Cluster.StartAsync(3, linkFaults: _ => new DataLinkFaults(() => false, () =>
        {
            if (Interlocked.Exchange(ref damage, 0) != 1) return false;
            Interlocked.Increment(ref damaged);
            return true;
        }));
        var reader = Cluster.Nodes[0];
        var file = WriteRandomFile("in", 5_000_000, 7);
        await Within(Cluster.Nodes[1].Client.PutFileAsync(file, "photos", "far"));
        var chunks = (await Within(reader.Client.StatAsync("photos", "far"))).Chunks.Select(c => c.Id).ToList();
        Assert.Contains(chunks, id => !reader.ChunkIds().Contains(id)); // the get fetches from other holders

        Volatile.Write(ref damage, 1);
        var target = Path.Combine(WorkDirectory, "far-out");
        await Within(reader.Client.GetFileAsync("photos", "far", target));

        Assert.Equal(1, damaged);
        Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(target));
        foreach (var node in Cluster.Nodes)
        {
            Assert.Equal(0, node.Handles.Chunks.QuarantinedCount());
            foreach (var id in node.ChunkIds()) node.Handles.Chunks.Read(id, verify: true); // every copy is whole
        }
        Assert.Empty(Directory.GetFiles(WorkDirectory, ".far-out.*"));
    }
}
