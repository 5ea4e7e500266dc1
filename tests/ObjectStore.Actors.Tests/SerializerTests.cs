using System.Runtime.InteropServices;
using System.Runtime.Serialization;
using Akka.Serialization;
using Google.Protobuf;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Serialization;
using ObjectStore.Core.Hashing;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using W = ObjectStore.Actors.Protocol.Wire;

namespace ObjectStore.Actors.Tests;

/// <summary>What the three protocol serializers do with bytes that are not a well-formed message of this version.</summary>
public class SerializerTests : StoreTestKit
{
    private SerializerWithStringManifest Store => (SerializerWithStringManifest)Sys.Serialization.FindSerializerForType(typeof(PutObject));
    private SerializerWithStringManifest Chunks => (SerializerWithStringManifest)Sys.Serialization.FindSerializerForType(typeof(OfferChunk));
    private SerializerWithStringManifest Replicas => (SerializerWithStringManifest)Sys.Serialization.FindSerializerForType(typeof(ReplicaProtocol.FindManifest));

    [Fact]
    public void Every_wire_message_type_is_bound_to_its_protocols_serializer()
    {
        Assert.All(WireSamples.WireTypes(), t =>
        {
            var expected = typeof(IStoreMessage).IsAssignableFrom(t) ? typeof(StoreSerializer)
                : typeof(IChunkTransferMessage).IsAssignableFrom(t) ? typeof(ChunkTransferSerializer)
                : typeof(ReplicaSerializer);
            Assert.IsType(expected, Sys.Serialization.FindSerializerForType(t));
        });
    }

    [Fact]
    public void Payloads_are_sliced_from_the_received_bytes_not_copied()
    {
        var data = new byte[65536];
        new Random(1).NextBytes(data);
        foreach (var (serializer, message) in new (SerializerWithStringManifest, object)[]
                 {
                     (Store, new DataFrame(12, data)), (Chunks, new ChunkPart(7, 131072, data)), (Store, new PutSmallObject("photos", "k", data)),
                 })
        {
            var bytes = serializer.ToBinary(message);
            Assert.InRange(bytes.Length, data.Length, data.Length + 32);
            var back = serializer.FromBinary(bytes, serializer.Manifest(message));
            var payload = back switch
            {
                DataFrame f => f.Data,
                ChunkPart p => p.Data,
                PutSmallObject s => s.Data,
                _ => throw new InvalidOperationException(),
            };
            Assert.Equal(data, payload.ToArray());
            Assert.True(MemoryMarshal.TryGetArray(payload, out var segment) && ReferenceEquals(segment.Array, bytes), $"{message.GetType().Name} copied its payload");
            Assert.Equal(WireSamples.Describe(message), WireSamples.Describe(back));
        }
    }

    [Fact]
    public void Payloads_beyond_a_frame_and_forged_lengths_are_refused()
    {
        var big = new byte[StoreSettings.MaxFrameSize + 1];
        Assert.Throws<SerializationException>(() => Store.FromBinary(Store.ToBinary(new DataFrame(1, big)), "df"));
        Assert.Throws<SerializationException>(() => Chunks.FromBinary(Chunks.ToBinary(new ChunkPart(1, 0, big)), "part"));
        Assert.Throws<SerializationException>(() => Store.FromBinary(Store.ToBinary(new PutSmallObject("photos", "k", big)), "putsmall"));
        // A part cut inside its payload, and one whose length field claims more than there is.
        var part = Chunks.ToBinary(new ChunkPart(1, 0, new byte[1000]));
        Assert.Throws<SerializationException>(() => Chunks.FromBinary(part[..^1], "part"));
        Assert.Throws<SerializationException>(() => Chunks.FromBinary([0x1A, 0xFF, 0xFF, 0xFF, 0x0F, 1, 2], "part"));
        Assert.Throws<SerializationException>(() => Chunks.FromBinary(Chunks.ToBinary(new ChunkPart(1, -5, new byte[10])), "part"));
    }

    [Fact]
    public void Values_protobuf_cannot_check_are_checked_while_decoding()
    {
        // A chunk id of 31 bytes.
        var offer = new W.OfferChunk { TransferId = 1, UploadId = "u", Id = ByteString.CopyFrom(new byte[31]), Length = 10 }.ToByteArray();
        Assert.Throws<SerializationException>(() => Chunks.FromBinary(offer, "offer"));
        // A chunk list whose ids and lengths disagree, and a manifest whose chunks do not add up to its size.
        var list = new W.ChunkList { Ids = ByteString.CopyFrom(new byte[64]), Lengths = { 10 } };
        var stage = new W.StageChunks { UploadId = "u", VersionId = "v", Chunks = list }.ToByteArray();
        Assert.Throws<SerializationException>(() => Replicas.FromBinary(stage, "stage"));
        var manifest = new W.Manifest
        {
            Bucket = "photos", Key = "k", VersionId = "v", Size = 11, Sha256 = ByteString.CopyFrom(new byte[32]),
            Chunks = new W.ChunkList { Ids = ByteString.CopyFrom(new byte[32]), Lengths = { 10 } },
        };
        Assert.Throws<SerializationException>(() => Replicas.FromBinary(new W.CommitReplica { Manifest = manifest, UploadId = "u" }.ToByteArray(), "commit"));
        // A listing row with a negative size.
        var listing = new W.ObjectListing { Bucket = "photos", Objects = { new W.ObjectInfo { Key = "k", Size = -1, Sha256 = ByteString.CopyFrom(new byte[32]) } } };
        Assert.Throws<SerializationException>(() => Store.FromBinary(listing.ToByteArray(), "lsok"));
        // A file mode with file-type bits (a FIFO's 010644): a get would otherwise chmod with them.
        var put = new W.PutObject { Bucket = "photos", Key = "k", ExpectedSize = 1, File = new W.FileMetadata { Mode = 0x11A4 } };
        Assert.Throws<SerializationException>(() => Store.FromBinary(put.ToByteArray(), "put"));
        var small = new W.PutSmallObject { Bucket = "photos", Key = "k", Data = ByteString.CopyFrom([1]), File = new W.FileMetadata { Mode = 0x11A4 } };
        Assert.Throws<SerializationException>(() => Store.FromBinary(small.ToByteArray(), "putsmall"));
    }

    [Fact]
    public void Forged_data_routes_are_refused_while_decoding()
    {
        W.DataRoute Route(int tokenSize = 16, int port = 4000, string host = "127.0.0.1") =>
            new() { Host = host, Port = port, Token = ByteString.CopyFrom(new byte[tokenSize]) };
        var receiver = TestActor.Path.ToString();
        W.SendChunk Send(W.DataRoute route) => new() { TransferId = 1, Receiver = receiver, Route = route };
        Assert.NotNull(Assert.IsType<ChunkTransferProtocol.SendChunk>(Chunks.FromBinary(Send(Route()).ToByteArray(), "send")).Route);
        Assert.Contains("token", Assert.Throws<SerializationException>(() => Chunks.FromBinary(Send(Route(tokenSize: 15)).ToByteArray(), "send")).Message);
        Assert.Contains("port", Assert.Throws<SerializationException>(() => Chunks.FromBinary(Send(Route(port: 70000)).ToByteArray(), "send")).Message);
        var fetch = new W.FetchChunk { TransferId = 1, Id = ByteString.CopyFrom(new byte[32]), Receiver = receiver, Route = Route(host: "") };
        Assert.Contains("host", Assert.Throws<SerializationException>(() => Chunks.FromBinary(fetch.ToByteArray(), "fetch")).Message);
    }

    [Fact]
    public void Forged_anti_entropy_ranges_are_refused_while_decoding()
    {
        // A depth beyond the tree, a prefix longer than its depth, too many ranges in one request.
        Assert.Throws<SerializationException>(() => Replicas.FromBinary(
            new W.SyncDigests { Session = "s", NodeId = "n", Ranges = { new W.RangeDigest { Depth = 17 } } }.ToByteArray(), "sync"));
        Assert.Throws<SerializationException>(() => Replicas.FromBinary(
            new W.SyncDigests { Session = "s", NodeId = "n", Ranges = { new W.RangeDigest { Prefix = 0x1ff, Depth = 2 } } }.ToByteArray(), "sync"));
        Assert.Throws<SerializationException>(() => Replicas.FromBinary(
            new W.SyncDigests { Session = "s", NodeId = "n", Ranges = { Enumerable.Repeat(new W.RangeDigest(), 129) } }.ToByteArray(), "sync"));
        // A split range with 15 children, or children of another range; listed items outside their range.
        var split = new W.RangeAnswer { Depth = 0, Children = { Enumerable.Range(0, 15).Select(i => new W.RangeDigest { Prefix = (ulong)i, Depth = 1 }) } };
        Assert.Throws<SerializationException>(() => Replicas.FromBinary(new W.SyncAnswers { Session = "s", Answers = { split } }.ToByteArray(), "syncok"));
        var elsewhere = new W.RangeAnswer { Prefix = 1, Depth = 1, Children = { Enumerable.Range(0, 16).Select(i => new W.RangeDigest { Prefix = (ulong)i, Depth = 2 }) } };
        Assert.Throws<SerializationException>(() => Replicas.FromBinary(new W.SyncAnswers { Session = "s", Answers = { elsewhere } }.ToByteArray(), "syncok"));
        var outside = new W.RangeAnswer { Prefix = 0xa, Depth = 1, Listed = true, Items = { 0xb000000000000000 } };
        Assert.Throws<SerializationException>(() => Replicas.FromBinary(new W.SyncAnswers { Session = "s", Answers = { outside } }.ToByteArray(), "syncok"));
    }

    [Fact]
    public void Garbage_under_every_manifest_is_decoded_or_refused_but_never_throws_anything_else()
    {
        var random = new Random(3);
        var serializers = new[] { Store, Chunks, Replicas };
        foreach (var sample in WireSamples.All)
        {
            var message = sample.Make(path => ((Akka.Actor.ExtendedActorSystem)Sys).Provider.ResolveActorRef(path));
            var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(message);
            var manifest = serializer.Manifest(message);
            var valid = serializer.ToBinary(message);
            for (var i = 0; i < 100; i++)
            {
                var garbage = i % 2 == 0 ? new byte[random.Next(0, 64)] : valid.ToArray();
                if (i % 2 == 0) random.NextBytes(garbage);
                else if (garbage.Length > 0) garbage[random.Next(garbage.Length)] ^= (byte)random.Next(1, 256);
                var cut = garbage[..random.Next(garbage.Length + 1)];
                foreach (var bytes in new[] { garbage, cut })
                {
                    try
                    {
                        Assert.NotNull(serializer.FromBinary(bytes, manifest));
                    }
                    catch (SerializationException)
                    {
                    }
                }
            }
        }
        Assert.All(serializers, s => Assert.NotNull(s));
    }

    [Fact]
    public void A_manifest_this_version_does_not_know_becomes_an_unknown_message_for_the_receiver_to_refuse()
    {
        var unknown = Assert.IsType<UnknownMessage>(Chunks.FromBinary([1, 2, 3], "a-message-from-the-future"));
        Assert.Equal("a-message-from-the-future", unknown.Manifest);
        var refusal = unknown.Refusal("node x");
        Assert.Equal(StoreErrorCode.Unsupported, refusal.Code);
        Assert.Contains("a-message-from-the-future", refusal.Message);
    }

    [Fact]
    public void An_error_code_from_a_newer_version_keeps_its_number_and_message()
    {
        var bytes = new W.StoreError { Code = (W.ErrorCode)42, Message = "something new went wrong" }.ToByteArray();
        var error = Assert.IsType<StoreError>(Store.FromBinary(bytes, "err"));
        Assert.Equal(42, (int)error.Code);
        Assert.Equal("something new went wrong", error.Message);
    }

    [Fact]
    public void Hashes_survive_the_round_trip_bit_for_bit()
    {
        var ids = Enumerable.Range(0, 100).Select(i => ContentHash.Compute(BitConverter.GetBytes(i))).ToList();
        var back = (ChunksHeld)Chunks.FromBinary(Chunks.ToBinary(new ChunksHeld("n", ids)), "held");
        Assert.Equal(ids, back.Ids);
    }
}
