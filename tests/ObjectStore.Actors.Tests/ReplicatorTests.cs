using ObjectStore.Actors.Replication;
using ObjectStore.Core.Hashing;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;
using static ObjectStore.Actors.Storage.StorageProtocol;

namespace ObjectStore.Actors.Tests;

/// <summary>The replicator against a storage actor that does not answer (restarting after a disk error).</summary>
public class ReplicatorTests : StoreTestKit
{
    [Fact]
    public void Offers_a_silent_storage_never_answers_give_their_transfer_slots_back()
    {
        var storage = CreateTestProbe();
        var settings = Settings with
        {
            Replication = Settings.Replication with { MaxIncomingTransfers = 2, TransferTimeout = TimeSpan.FromMilliseconds(300) },
        };
        var replicator = Sys.ActorOf(Replicator.Props(settings, storage.Ref, "node-test"));
        var sender = CreateTestProbe();
        OfferChunk Offer(int i) => new(i, "upload-1", ContentHash.Compute([(byte)i]), 1000);

        replicator.Tell(Offer(1), sender.Ref);
        replicator.Tell(Offer(2), sender.Ref);
        storage.ExpectMsg<ClaimChunk>();
        storage.ExpectMsg<ClaimChunk>();
        replicator.Tell(Offer(3), sender.Ref);
        Assert.Contains("busy", sender.ExpectMsg<TransferFailed>().Reason);

        // After the transfer timeout the unanswered claims are dropped and the slots come back.
        AwaitAssert(() =>
        {
            replicator.Tell(Offer(4), sender.Ref);
            storage.ExpectMsg<ClaimChunk>(TimeSpan.FromMilliseconds(200));
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(300));
    }
}
