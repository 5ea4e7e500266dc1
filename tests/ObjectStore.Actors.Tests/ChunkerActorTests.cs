using Akka.Actor;
using ObjectStore.Actors.Chunking;
using ObjectStore.Core.Chunking;
using ObjectStore.Core.Hashing;
using static ObjectStore.Actors.Storage.ChunkStorageProtocol;

namespace ObjectStore.Actors.Tests;

public class ChunkerActorTests : StoreTestKit
{
    [Fact]
    public void Input_stops_being_accepted_while_the_in_flight_chunks_are_not_durable()
    {
        var storage = CreateTestProbe();
        var chunker = Sys.ActorOf(ChunkerActor.Props(new FixedSizeChunker(1024), storage.Ref, "u1", chunksInMemory: 2));

        for (var i = 0; i < 5; i++) chunker.Tell(new ChunkerActor.Bytes(i, new byte[1024]));

        ExpectMsg<ChunkerActor.Accepted>(a => a.Sequence == 0);
        ExpectMsg<ChunkerActor.Accepted>(a => a.Sequence == 1);
        var first = storage.ExpectMsg<StoreChunk>();
        storage.ExpectMsg<StoreChunk>();
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));

        // Durable, but its bytes still held by storage: the slot stays taken.
        storage.Reply(new ChunkStored(first.Id, 1024, Written: true));
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        first.Data.Dispose();
        ExpectMsg<ChunkerActor.Accepted>(a => a.Sequence == 2);
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void Chunks_written_to_disk_free_memory_but_not_past_the_commit_window()
    {
        var storage = CreateTestProbe();
        var chunker = Sys.ActorOf(ChunkerActor.Props(new FixedSizeChunker(1024), storage.Ref, "u4", chunksInMemory: 1, chunksNotDurable: 3));

        for (var i = 0; i < 6; i++) chunker.Tell(new ChunkerActor.Bytes(i, new byte[1024]));

        var stores = new List<StoreChunk>();
        for (var expected = 0; expected < 3; expected++)
        {
            ExpectMsg<ChunkerActor.Accepted>(a => a.Sequence == expected);
            stores.Add(storage.ExpectMsg<StoreChunk>());
            ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // one chunk in memory at a time
            stores[^1].Data.Dispose(); // written to a temp file: storage lets go of the bytes
        }
        ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // three written, none durable: the commit window is full

        storage.Reply(new ChunkStored(stores[0].Id, 1024, Written: true));
        ExpectMsg<ChunkerActor.Accepted>(a => a.Sequence == 3);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Done_lists_the_chunks_in_order_with_the_whole_object_hash(bool shaNi)
    {
        // shaNi: the one-pass kernel where this machine has it (else the same path as false).
        var storage = CreateTestProbe();
        var chunker = Sys.ActorOf(ChunkerActor.Props(new FixedSizeChunker(1000), storage.Ref, "u2", chunksInMemory: 8, shaNi: shaNi));
        var data = new byte[2500];
        new Random(1).NextBytes(data);

        chunker.Tell(new ChunkerActor.Bytes(0, data.AsMemory(0, 1200)));
        chunker.Tell(new ChunkerActor.Bytes(1, data.AsMemory(1200)));
        chunker.Tell(ChunkerActor.EndOfData.Instance);
        for (var i = 0; i < 3; i++)
        {
            var store = storage.ExpectMsg<StoreChunk>();
            var length = store.Data.Length;
            store.Data.Dispose();
            storage.Reply(new ChunkStored(store.Id, length, Written: true));
        }

        var done = FishForMessage<ChunkerActor.ChunkingDone>(_ => true);
        Assert.Equal([1000, 1000, 500], done.Chunks.Select(c => c.Length));
        Assert.Equal(ContentHash.Compute(data.AsSpan(0, 1000)), done.Chunks[0].Id);
        Assert.Equal(ContentHash.Compute(data.AsSpan(1000, 1000)), done.Chunks[1].Id);
        Assert.Equal(ContentHash.Compute(data.AsSpan(2000)), done.Chunks[2].Id);
        Assert.Equal(ContentHash.Compute(data), done.Sha256);
        Assert.Equal(2500, done.Size);
    }

    [Fact]
    public void A_storage_failure_is_reported_to_the_parent()
    {
        var storage = CreateTestProbe();
        var parent = CreateTestProbe();
        var chunker = parent.ChildActorOf(ChunkerActor.Props(new FixedSizeChunker(100), storage.Ref, "u3", chunksInMemory: 8));

        chunker.Tell(new ChunkerActor.Bytes(0, new byte[100]));
        var store = storage.ExpectMsg<StoreChunk>();
        storage.Reply(new ChunkStoreFailed(store.Id, "disk full"));

        Assert.Equal("disk full", parent.ExpectMsg<ChunkerActor.ChunkingFailed>().Reason);
    }
}
