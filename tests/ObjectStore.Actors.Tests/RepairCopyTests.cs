using Akka.Actor;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Replication.Repair;
using ObjectStore.Core.Metadata;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.IndexProtocol;

namespace ObjectStore.Actors.Tests;

/// <summary>
/// One copy from the repair queue, against an index that answers as the test says: only the index saying the
/// object is gone makes the copy obsolete; an index that cannot answer (restarting after a storage failure)
/// leaves the copy to be tried again.
/// </summary>
public sealed class RepairCopyTests : StoreTestKit
{
    private RepairCopyActor.Finished CopyWhenTheIndexAnswers(object answer)
    {
        var index = CreateTestProbe();
        var parent = CreateTestProbe();
        var entry = new RepairEntry("v1", "node-b", "photos", "x", 1000, "test");
        using var rate = new ByteRate(1_000_000, TimeSpan.FromMilliseconds(100));
        parent.ChildActorOf(RepairCopyActor.Props(entry, Settings, new RepairActor.Parts(index.Ref, ActorRefs.Nobody, ActorRefs.Nobody, "node-a"), rate));
        Assert.Equal(("photos", "x"), index.ExpectMsg<GetManifest>() is var m ? (m.Bucket, m.Key) : default);
        index.Reply(answer);
        return parent.ExpectMsg<RepairCopyActor.Finished>(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void A_copy_whose_index_is_restarting_is_not_dropped_but_tried_again()
    {
        var finished = CopyWhenTheIndexAnswers(new StoreError(StoreErrorCode.Unavailable, "node node-a: the object index is restarting"));

        Assert.False(finished.Done);
        Assert.Contains("the object index is restarting", finished.Note);
    }

    [Fact]
    public void A_copy_of_an_object_the_index_no_longer_has_is_obsolete()
    {
        var finished = CopyWhenTheIndexAnswers(new StoreError(StoreErrorCode.NotFound, "photos/x: no such object"));

        Assert.True(finished.Done);
        Assert.Contains("no longer current", finished.Note);
    }
}
