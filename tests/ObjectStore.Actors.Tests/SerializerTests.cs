using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Serialization;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Serialization;
using ObjectStore.Core.Hashing;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Tests;

public class SerializerTests : StoreTestKit
{
    private static readonly ObjectInfo Info = new("photos", "a/ü b.jpg", "0192abcd", 12345, ContentHash.Compute([1, 2, 3]), 1_700_000_000_000, 3);

    public static TheoryData<object> Messages() => new()
    {
        new PutObject("photos", "k", 42),
        new UploadComplete(10, 1),
        new UploadProgress(16_777_216),
        new PutCompleted(Info, 99),
        new GetObject("photos", "k", 32),
        new DownloadComplete(12345),
        new FrameAck(7),
        new CancelTransfer("bye"),
        new ListObjects("photos", "a/", null, 100),
        new ListObjects("photos", "", "a/b", 5),
        new ObjectListing("photos", [Info, Info with { Key = "other" }], true),
        ListBuckets.Instance,
        new BucketListing([new BucketInfo("photos", 3, 300)]),
        new StatObject("photos", "k"),
        new ObjectDeleted("photos", "k"),
        new DeleteObject("photos", "k"),
        new StoreError(StoreErrorCode.Corrupt, "chunk is bad"),
        ListMembers.Instance,
        GetNodeStatus.Instance,
        new NodeStatus("node-1", 3, 40),
        new MemberListing([new MemberInfo("akka.tcp://objectstore@127.0.0.1:4053", "Up", ["storage"], "node-1", 3, 40)]),
    };

    private StoreMessageSerializer Serializer => (StoreMessageSerializer)Sys.Serialization.FindSerializerForType(typeof(PutObject));

    [Theory]
    [MemberData(nameof(Messages))]
    public void Every_protocol_message_round_trips(object message)
    {
        var bytes = Serializer.ToBinary(message);
        var back = Serializer.FromBinary(bytes, Serializer.Manifest(message));
        Assert.Equal(Normalize(message), Normalize(back));
    }

    private static string Normalize(object message) => message switch
    {
        ObjectListing l => $"{l.Bucket}|{string.Join(",", l.Objects)}|{l.Truncated}",
        BucketListing b => string.Join(",", b.Buckets),
        MemberListing l => string.Join(",", l.Members.Select(m => $"{m.Address}|{m.Status}|{string.Join("+", m.Roles)}|{m.NodeId}|{m.Objects}|{m.Chunks}")),
        _ => message.ToString()!,
    };

    [Fact]
    public void Messages_with_actor_refs_and_chunk_lists_round_trip()
    {
        var probe = CreateTestProbe();
        var ready = (UploadReady)Serializer.FromBinary(Serializer.ToBinary(new UploadReady(probe.Ref, 32, 65536, "127.0.0.1", 4321, [1, 2, 3], "objectstore-ab12")), "upr");
        Assert.Equal(probe.Ref, ready.Session);
        Assert.Equal("objectstore-ab12", ready.HandOver);
        Assert.Equal(("127.0.0.1", 4321), (ready.DataHost, ready.DataPort));
        Assert.Equal([1, 2, 3], ready.DataToken);
        var download = (DownloadReady)Serializer.FromBinary(Serializer.ToBinary(new DownloadReady(Info, probe.Ref, "127.0.0.1", 4322, [4, 5])), "dlr");
        Assert.Equal(probe.Ref, download.Session);
        Assert.Equal(Info, download.Object);
        Assert.Equal(("127.0.0.1", 4322), (download.DataHost, download.DataPort));
        Assert.Equal([4, 5], download.DataToken);

        var details = new ObjectDetails(Info, [new ChunkLocation(ContentHash.Compute([9]), 100, ["node-a", "node-b"])]);
        var back = (ObjectDetails)Serializer.FromBinary(Serializer.ToBinary(details), "statok");
        Assert.Equal(["node-a", "node-b"], back.Chunks[0].Nodes);
        Assert.Equal(details.Chunks[0].Id, back.Chunks[0].Id);
    }

    [Fact]
    public void A_small_put_carries_its_bytes_and_refuses_more_than_a_frame()
    {
        var data = new byte[1000];
        new Random(4).NextBytes(data);
        var back = (PutSmallObject)Serializer.FromBinary(Serializer.ToBinary(new PutSmallObject("photos", "k", data)), "putsmall");
        Assert.Equal(("photos", "k"), (back.Bucket, back.Key));
        Assert.Equal(data, back.Data.ToArray());
        var tooBig = Serializer.ToBinary(new PutSmallObject("photos", "k", new byte[StoreSettings.MaxFrameSize + 1]));
        Assert.Throws<SerializationException>(() => Serializer.FromBinary(tooBig, "putsmall"));
        var bytes = Serializer.ToBinary(new PutSmallObject("photos", "k", data));
        Assert.Throws<SerializationException>(() => Serializer.FromBinary(bytes[..^1], "putsmall"));
    }

    [Fact]
    public void Data_frames_carry_raw_bytes_after_an_eight_byte_sequence()
    {
        var data = new byte[65536];
        new Random(1).NextBytes(data);
        var bytes = Serializer.ToBinary(new DataFrame(12, data));
        Assert.Equal(65536 + 8, bytes.Length);
        var back = (DataFrame)Serializer.FromBinary(bytes, "df");
        Assert.Equal(12, back.Sequence);
        Assert.Equal(data, back.Data.ToArray());
    }

    [Fact]
    public void Every_protocol_message_type_is_bound_to_the_binary_serializer()
    {
        var types = typeof(IStoreMessage).Assembly.GetTypes().Where(t => typeof(IStoreMessage).IsAssignableFrom(t) && !t.IsInterface);
        Assert.All(types, t => Assert.IsType<StoreMessageSerializer>(Sys.Serialization.FindSerializerForType(t)));
    }

    [Theory]
    [MemberData(nameof(Messages))]
    public void Truncated_messages_are_rejected_with_a_serialization_exception(object message) =>
        SerializerAssert.RejectsEveryTruncation(Serializer, message);

    [Fact]
    public void Garbage_and_unknown_manifests_are_rejected_with_a_serialization_exception()
    {
        var random = new Random(3);
        foreach (var manifest in new[] { "put", "lsok", "statok", "err", "upr", "df", "lbok" })
        {
            for (var i = 0; i < 200; i++)
            {
                var garbage = new byte[random.Next(0, 64)];
                random.NextBytes(garbage);
                try
                {
                    Serializer.FromBinary(garbage, manifest);
                }
                catch (SerializationException)
                {
                }
            }
        }
        Assert.Throws<SerializationException>(() => Serializer.FromBinary([1, 2, 3], "no-such-message"));
        // A forged count claiming a billion listing entries is refused before anything is allocated.
        var forged = new byte[] { 1, 0, 0, 0, (byte)'p', 0, 0, 0, 0x40 };
        Assert.Throws<SerializationException>(() => Serializer.FromBinary(forged, "lsok"));
        Assert.Throws<SerializationException>(() => Serializer.FromBinary(new byte[200_000], "df"));
    }
}
