using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Storage;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Storage;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.ChunkStorageProtocol;

namespace ObjectStore.Actors.Tests;

/// <summary>
/// Checked pooled reads that reach the chunk reader together are hashed two at a time (one SHA-NI pass):
/// each still gets its own answer — its bytes, Corrupt (and the file quarantined) or NotFound. (Where the
/// machine has no SHA-NI kernel the reads go one by one, and the answers must be the same.)
/// </summary>
public class ChunkReaderPairTests : StoreTestKit
{
    [Fact]
    public void Reads_that_arrive_together_each_get_their_own_bytes_or_their_own_failure()
    {
        var store = new ChunkStore(Path.Combine(WorkDirectory, "store"), fsync: false);
        var chunks = Enumerable.Range(0, 5).Select(i =>
        {
            var data = new byte[200_000 + 4096 * i + i];
            new Random(i).NextBytes(data);
            var id = ContentHash.Compute(data);
            store.Put(id, data);
            return (Id: id, Data: data);
        }).ToList();
        var corrupt = chunks[1].Id;
        var bytes = File.ReadAllBytes(store.PathOf(corrupt));
        bytes[^1] ^= 0x01;
        File.WriteAllBytes(store.PathOf(corrupt), bytes);
        var missing = ContentHash.Compute([42]);
        var reader = Sys.ActorOf(ChunkReaderActor.Props(store, 2, ShaNiKernel.Instance));

        // Six reads in one burst: three pairs, the corrupt and the missing one each paired with a good one.
        ContentHash[] asked = [chunks[0].Id, corrupt, chunks[2].Id, missing, chunks[3].Id, chunks[4].Id];
        foreach (var id in asked) reader.Tell(new ReadChunk(id, Verify: true, Pooled: true), TestActor);
        var replies = Enumerable.Range(0, asked.Length).Select(_ => ExpectMsg<object>(TimeSpan.FromSeconds(10))).ToList();

        foreach (var (id, data) in chunks.Where(c => c.Id != corrupt))
        {
            var read = replies.OfType<ChunkRead>().Single(r => r.Id == id);
            Assert.True(read.Data.Span.SequenceEqual(data));
            read.Lease!.Dispose();
        }
        var errors = replies.OfType<StoreError>().ToList();
        Assert.Equal(2, errors.Count);
        Assert.Single(errors, e => e.Code == StoreErrorCode.Corrupt && e.Message.Contains(corrupt.ToString()));
        Assert.Single(errors, e => e.Code == StoreErrorCode.NotFound && e.Message.Contains(missing.ToString()));
        Assert.False(store.Contains(corrupt));
        Assert.Equal(1, store.QuarantinedCount());
    }

    [Fact]
    public void A_read_alone_is_not_kept_waiting_for_a_partner()
    {
        var store = new ChunkStore(Path.Combine(WorkDirectory, "store"), fsync: false);
        var data = new byte[300_000];
        new Random(7).NextBytes(data);
        var id = ContentHash.Compute(data);
        store.Put(id, data);
        var reader = Sys.ActorOf(ChunkReaderActor.Props(store, 2, ShaNiKernel.Instance));

        reader.Tell(new ReadChunk(id, Verify: true, Pooled: true), TestActor);

        var read = ExpectMsg<ChunkRead>(TimeSpan.FromSeconds(5));
        Assert.True(read.Data.Span.SequenceEqual(data));
        read.Lease!.Dispose();
    }
}
