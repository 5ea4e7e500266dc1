using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Replication;
using ObjectStore.Core.Hashing;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;
using static ObjectStore.Actors.Storage.ChunkStorageProtocol;

namespace ObjectStore.Actors.Tests;

/// <summary>The chunk endpoint against a chunk keeper that does not answer (restarting after a disk error).</summary>
public class ChunkEndpointTests : StoreTestKit
{
    [Fact]
    public void Offers_a_silent_keeper_never_answers_give_their_transfer_slots_back()
    {
        var keeper = CreateTestProbe();
        var settings = Settings with
        {
            Replication = Settings.Replication with { MaxIncomingTransfers = 2, TransferTimeout = TimeSpan.FromMilliseconds(300) },
        };
        var endpoint = Sys.ActorOf(ChunkEndpoint.Props(settings, keeper.Ref, CreateTestProbe().Ref));
        var sender = CreateTestProbe();
        OfferChunk Offer(int i) => new(i, "upload-1", ContentHash.Compute([(byte)i]), 1000);

        endpoint.Tell(Offer(1), sender.Ref);
        endpoint.Tell(Offer(2), sender.Ref);
        keeper.ExpectMsg<ClaimChunk>();
        keeper.ExpectMsg<ClaimChunk>();
        endpoint.Tell(Offer(3), sender.Ref);
        var busy = sender.ExpectMsg<TransferFailed>();
        Assert.Contains("busy", busy.Reason);
        Assert.Equal(StoreErrorCode.Unavailable, busy.Code);

        // After the transfer timeout the unanswered claims are dropped and the slots come back.
        AwaitAssert(() =>
        {
            endpoint.Tell(Offer(4), sender.Ref);
            keeper.ExpectMsg<ClaimChunk>(TimeSpan.FromMilliseconds(200));
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void An_offer_outside_the_configured_chunk_sizes_is_refused_with_a_code()
    {
        var endpoint = Sys.ActorOf(ChunkEndpoint.Props(Settings, CreateTestProbe().Ref, CreateTestProbe().Ref));
        endpoint.Tell(new OfferChunk(1, "upload-1", ContentHash.Compute([1]), Settings.Chunking.LargestChunk + 1), TestActor);
        var refused = ExpectMsg<TransferFailed>();
        Assert.Equal(StoreErrorCode.InvalidRequest, refused.Code);
        Assert.Contains("objectstore.chunking", refused.Reason);
    }
}
