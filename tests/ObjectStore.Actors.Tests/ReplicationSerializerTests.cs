using System.Runtime.Serialization;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Serialization;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;
using static ObjectStore.Actors.Protocol.ReplicationProtocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Tests;

public class ReplicationSerializerTests : StoreTestKit
{
    private static readonly ContentHash A = ContentHash.Compute([1]), B = ContentHash.Compute([2]);

    private static readonly ObjectManifest Manifest = new("photos", "a/ü b.jpg", "0192abcd", 300, ContentHash.Compute([3]),
        DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123), [new ChunkRef(A, 100), new ChunkRef(B, 200)], "node-a");

    public static TheoryData<object> Messages() => new()
    {
        new OfferChunk(42, "upload-1", A, 1000),
        new ChunkPresent(42),
        new ChunkPartAck(42, 65536),
        new ChunkDurable(42),
        new TransferFailed(42, "disk full"),
        new CommitReplica(Manifest, "upload-1"),
        new CommitReplica(Manifest with { Chunks = [] }, "upload-1", ChunksStaged: true),
        new StageChunks("upload-1", "0192abcd", 2000, [new ChunkRef(A, 100), new ChunkRef(B, 200)]),
        new ChunksStaged("0192abcd", 2002),
        new FindManifestChunks("photos", "k", "0192abcd", 2000),
        new ManifestChunks("0192abcd", 2000, [new ChunkRef(B, 200)]),
        new ManifestReply("node-a", Manifest with { Chunks = [new ChunkRef(A, 100)] }, 2),
        new ReplicaCommitted("0192abcd", true),
        new DropReplica("photos", "k", "0192abcd"),
        new ReplicaDropped("0192abcd"),
        new ReleaseReplicaUpload("upload-1"),
        new FindManifest("photos", "k"),
        new ManifestReply("node-a", Manifest, 2),
        new ManifestReply("node-a", null, 0),
        new WhichChunks([A, B]),
        new ChunksHeld("node-b", [B]),
        new ListLocalObjects("photos", "a/", "a/b", 10),
        ListLocalBuckets.Instance,
        new DeleteLocal(new DeleteMarker("photos", "k", "0192abce", DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_999), "node-b")),
        new ManifestReply("node-a", null, 0, new DeleteMarker("photos", "k", "0192abce", DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_999), "node-b")),
        new LocalListing("photos", [new ObjectInfo("photos", "a", "v1", 10, A, 1_700_000_000_000, 1, "node-a")],
            [new DeleteMarker("photos", "b", "v2", DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_500), "node-b")], true),
    };

    private ReplicationMessageSerializer Serializer => (ReplicationMessageSerializer)Sys.Serialization.FindSerializerForType(typeof(OfferChunk));

    private static string Normalize(object message) => message switch
    {
        CommitReplica c => $"{Describe(c.Manifest)}|{c.UploadId}|{c.ChunksStaged}",
        ManifestReply r => $"{r.NodeId}|{(r.Manifest is null ? "-" : Describe(r.Manifest))}|{r.TotalChunks}",
        StageChunks st => $"{st.UploadId}|{st.VersionId}|{st.Start}|{string.Join(",", st.Chunks)}",
        ManifestChunks mc => $"{mc.VersionId}|{mc.Start}|{string.Join(",", mc.Chunks)}",
        WhichChunks w => string.Join(",", w.Ids),
        ChunksHeld h => $"{h.NodeId}|{string.Join(",", h.Ids)}",
        LocalListing l => $"{l.Bucket}|{string.Join(",", l.Objects)}|{string.Join(",", l.Deleted)}|{l.Truncated}",
        _ => message.ToString()!,
    };

    private static string Describe(ObjectManifest m) => $"{m with { Chunks = [] }}|{string.Join(",", m.Chunks)}";

    [Theory]
    [MemberData(nameof(Messages))]
    public void Every_replication_message_round_trips(object message)
    {
        var back = Serializer.FromBinary(Serializer.ToBinary(message), Serializer.Manifest(message));
        Assert.Equal(Normalize(message), Normalize(back));
    }

    [Theory]
    [MemberData(nameof(Messages))]
    public void Truncated_replication_messages_are_rejected_with_a_serialization_exception(object message) =>
        SerializerAssert.RejectsEveryTruncation(Serializer, message);

    [Fact]
    public void Parts_and_messages_with_actor_refs_round_trip()
    {
        var probe = CreateTestProbe();
        var send = (SendChunk)Serializer.FromBinary(Serializer.ToBinary(new SendChunk(7, probe.Ref)), "send");
        Assert.Equal((7L, probe.Ref), (send.TransferId, send.Receiver));
        var fetch = (FetchChunk)Serializer.FromBinary(Serializer.ToBinary(new FetchChunk(8, A, probe.Ref)), "fetch");
        Assert.Equal((8L, A, probe.Ref), (fetch.TransferId, fetch.Id, fetch.Receiver));

        var data = new byte[65536];
        new Random(1).NextBytes(data);
        var bytes = Serializer.ToBinary(new ChunkPart(9, 131072, data));
        Assert.Equal(65536 + 12, bytes.Length);
        var part = (ChunkPart)Serializer.FromBinary(bytes, "part");
        Assert.Equal((9L, 131072), (part.TransferId, part.Offset));
        Assert.Equal(data, part.Data.ToArray());
    }

    [Fact]
    public void Forged_parts_and_manifests_are_rejected()
    {
        Assert.Throws<SerializationException>(() => Serializer.FromBinary(new byte[11], "part"));
        Assert.Throws<SerializationException>(() => Serializer.FromBinary(new byte[200_000], "part"));
        var negative = new byte[12 + 10];
        BitConverter.GetBytes(-5).CopyTo(negative, 8);
        Assert.Throws<SerializationException>(() => Serializer.FromBinary(negative, "part"));
        // A manifest whose chunk lengths do not add up to the object's size.
        var lying = Serializer.ToBinary(new CommitReplica(Manifest with { Size = 301 }, "u"));
        Assert.Throws<SerializationException>(() => Serializer.FromBinary(lying, "commit"));
        Assert.Throws<SerializationException>(() => Serializer.FromBinary([1, 2, 3], "no-such-message"));
        // A reply that claims fewer chunks in all than it carries, and a staged commit that carries a list.
        var overfull = Serializer.ToBinary(new ManifestReply("n", Manifest, 1));
        Assert.Throws<SerializationException>(() => Serializer.FromBinary(overfull, "findok"));
        var stagedWithList = Serializer.ToBinary(new CommitReplica(Manifest, "u", ChunksStaged: true));
        Assert.Throws<SerializationException>(() => Serializer.FromBinary(stagedWithList, "commit"));
        var negativeStart = Serializer.ToBinary(new FindManifestChunks("photos", "k", "v", -1));
        Assert.Throws<SerializationException>(() => Serializer.FromBinary(negativeStart, "findpage"));
    }

    [Fact]
    public void Every_replication_message_type_is_bound_to_the_replication_serializer()
    {
        var types = typeof(IReplicationMessage).Assembly.GetTypes().Where(t => typeof(IReplicationMessage).IsAssignableFrom(t) && !t.IsInterface);
        Assert.All(types, t => Assert.IsType<ReplicationMessageSerializer>(Sys.Serialization.FindSerializerForType(t)));
    }
}
