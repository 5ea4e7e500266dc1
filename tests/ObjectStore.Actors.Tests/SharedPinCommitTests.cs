using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;
using ObjectStore.Core.Storage;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Tests;

/// <summary>
/// Objects of one small-put batch with the same bytes share one chunk and one upload's pin. When the first is
/// refused because its key has a newer version, its commit must not end the shared pin: the next object's commit
/// (in the same index transaction or a later one, as the commits happen to arrive) has not referenced the chunk
/// yet, and the keeper would delete a chunk a committed object needs. Here the batch's transaction fails (one
/// object's commit always does), so the index commits one by one, the held one last.
/// </summary>
public class SharedPinCommitTests : StoreTestKit
{
    /// <summary>Fails every commit of one key (so the batch falls back to one by one); holds the second commit of another until the shared chunk is gone or a while has passed.</summary>
    private sealed class Faults(string failingKey, string heldKey, string sharedChunkPath) : IStorageFaults
    {
        private int _heldCalls;

        public void BeforeRename(ContentHash id) { }
        public void BeforeRead(ContentHash id) { }

        public void BeforeCommit(string bucket, string key)
        {
            if (key == failingKey) throw new IOException("simulated index write error");
            // The first call is inside the batch's transaction (nothing released yet); the second is the one-by-one commit.
            if (key != heldKey || Interlocked.Increment(ref _heldCalls) != 2) return;
            var until = DateTime.UtcNow.AddSeconds(1.5);
            while (File.Exists(sharedChunkPath) && DateTime.UtcNow < until) Thread.Sleep(10);
        }
    }

    [Fact]
    public async Task A_refused_object_does_not_free_the_chunk_another_object_of_its_batch_commits()
    {
        var shared = RandomBytes(4096, 41);
        var sharedId = ContentHash.Compute(shared);
        // A version of "refused" newer than anything the batch makes: the batch's version of it is refused.
        using (var index = new ObjectIndex(DataDirectory))
            index.Commit(new ObjectManifest("small", "refused", ObjectManifest.NewVersionId(), 1, ContentHash.Compute([1]),
                DateTimeOffset.UtcNow.AddHours(1), [new ChunkRef(ContentHash.Compute([1]), 1)], "node-x"));
        var chunkPath = new ChunkStore(DataDirectory, fsync: false).PathOf(sharedId);
        var client = StartNode(new Faults("failing", "kept", chunkPath));

        var done = await Within(client.PutSmallBatchAsync([
            new PutSmallObject("small", "refused", shared),
            new PutSmallObject("small", "kept", shared),
            new PutSmallObject("small", "failing", RandomBytes(4096, 42)),
        ]));

        var kept = Assert.Single(done.Outcomes, o => o.Key == "kept");
        Assert.Null(kept.Error);
        Assert.NotNull(done.Outcomes.Single(o => o.Key == "failing").Error);
        // Whatever the keeper was told, it has had time to act on it while the held commit waited.
        Assert.True(File.Exists(chunkPath), "the chunk of small/kept was deleted");
        // The index restarts after the failed commit (its supervisor backs off): the get is retried meanwhile.
        var target = Path.Combine(WorkDirectory, "kept");
        Directory.CreateDirectory(WorkDirectory);
        await AwaitAssertAsync(async () => await Within(client.GetFileAsync("small", "kept", target)), TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(200));
        Assert.Equal(shared, File.ReadAllBytes(target));
    }
}
