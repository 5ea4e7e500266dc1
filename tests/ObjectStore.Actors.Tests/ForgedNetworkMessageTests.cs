using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using ObjectStore.Actors.Coordination;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Replication;
using ObjectStore.Actors.Serialization;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Tests;

/// <summary>Raw bytes sent under a real serializer id and manifest: what a buggy, hostile or newer peer could put on the wire.</summary>
public sealed record Forged(string Manifest, byte[] Bytes);

/// <summary>Sends <see cref="Forged"/> bytes as they are; decodes what comes back with the real serializer.</summary>
public abstract class ForgingSerializer(ExtendedActorSystem system, int id, SerializerWithStringManifest real) : SerializerWithStringManifest(system)
{
    public override int Identifier => id;
    public override string Manifest(object o) => o is Forged f ? f.Manifest : real.Manifest(o);
    public override byte[] ToBinary(object obj) => obj is Forged f ? f.Bytes : real.ToBinary(obj);
    public override object FromBinary(byte[] bytes, string manifest) => real.FromBinary(bytes, manifest);
}

public sealed class ForgingStoreSerializer(ExtendedActorSystem system) : ForgingSerializer(system, StoreSerializer.SerializerId, new StoreSerializer(system));

public sealed class ForgingChunkSerializer(ExtendedActorSystem system) : ForgingSerializer(system, ChunkTransferSerializer.SerializerId, new ChunkTransferSerializer(system));

public sealed class ForgingReplicaSerializer(ExtendedActorSystem system) : ForgingSerializer(system, ReplicaSerializer.SerializerId, new ReplicaSerializer(system));

/// <summary>
/// A second actor system, standing in for a broken, hostile or newer peer, sends truncated, garbage and
/// unknown messages over real Akka.Remote to a node. The node drops malformed ones, answers unknown
/// kinds with a typed refusal, and keeps working: the same association still carries the next message,
/// and puts and gets still work.
/// </summary>
public class ForgedNetworkMessageTests : StoreTestKit
{
    private static Config ForgerConfig(Type binding) => ConfigurationFactory.ParseString($$"""
        akka.actor.serializers.objectstore-store = "{{typeof(ForgingStoreSerializer).AssemblyQualifiedName}}"
        akka.actor.serializers.objectstore-chunks = "{{typeof(ForgingChunkSerializer).AssemblyQualifiedName}}"
        akka.actor.serializers.objectstore-replicas = "{{typeof(ForgingReplicaSerializer).AssemblyQualifiedName}}"
        akka.actor.serializers.forged = "{{binding.AssemblyQualifiedName}}"
        akka.actor.serialization-bindings { "{{typeof(Forged).AssemblyQualifiedName}}" = forged }
        akka.actor.serialize-messages = off
        """).WithFallback(TestConfig);

    [Fact]
    public async Task Truncated_and_garbage_messages_from_the_network_are_dropped_and_the_node_keeps_working()
    {
        var client = StartNode();
        var logs = CreateTestProbe();
        Sys.EventStream.Subscribe(logs.Ref, typeof(Akka.Event.Warning));
        Sys.EventStream.Subscribe(logs.Ref, typeof(Akka.Event.Error));
        var nodeAddress = ((ExtendedActorSystem)Sys).Provider.DefaultAddress;
        var forger = ActorSystem.Create("forger", ForgerConfig(typeof(ForgingReplicaSerializer)));
        try
        {
            var replicas = forger.ActorSelection(new RootActorPath(nodeAddress) / "user" / ReplicaEndpoint.Name);
            var random = new Random(7);
            // Manifests whose messages cannot be empty or random: each must fail to decode.
            var manifests = new[] { "commit", "findok", "stage", "lslok", "rml" };
            foreach (var manifest in manifests)
            {
                for (var i = 0; i < 20; i++)
                {
                    var garbage = new byte[random.Next(1, 200)];
                    random.NextBytes(garbage);
                    garbage[0] = 0x0A; // field 1, length-delimited...
                    garbage[1] = 0xFF; // ...claiming more bytes than follow
                    replicas.Tell(new Forged(manifest, garbage));
                }
            }

            // The association and the node are still there: an Identify over the same association is answered.
            var identity = await replicas.Ask<ActorIdentity>(new Identify(1), TimeSpan.FromSeconds(10));
            Assert.NotNull(identity.Subject);
            Assert.False(Sys.WhenTerminated.IsCompleted);
            // ... and each forged message reached the node's deserializer, which refused it without
            // dropping the association.
            var refused = logs.ReceiveWhile(TimeSpan.FromSeconds(2), o => (Akka.Event.LogEvent)o)
                .Select(e => e.ToString()!)
                .Where(e => e.Contains($"SerializerId={ReplicaSerializer.SerializerId}") && e.Contains("association remains live"))
                .ToList();
            Assert.Equal(manifests.Length * 20, refused.Count);
        }
        finally
        {
            await forger.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
        }

        // Nothing was stored, and the node still takes and serves objects.
        Assert.Empty(ChunkFiles());
        var file = WriteRandomFile("in", 300_000, 1);
        await Within(client.PutFileAsync(file, "photos", "after"));
        var target = Path.Combine(WorkDirectory, "out");
        await Within(client.GetFileAsync("photos", "after", target));
        Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(target));
    }

    [Theory]
    [InlineData("store")]
    [InlineData("chunks")]
    [InlineData("replicas")]
    public async Task A_kind_of_message_the_node_does_not_know_is_refused_with_a_typed_answer_and_the_association_stays(string protocol)
    {
        var client = StartNode();
        var nodeAddress = ((ExtendedActorSystem)Sys).Provider.DefaultAddress;
        var (binding, path) = protocol switch
        {
            "store" => (typeof(ForgingStoreSerializer), StoreCoordinator.Name),
            "chunks" => (typeof(ForgingChunkSerializer), ChunkEndpoint.Name),
            _ => (typeof(ForgingReplicaSerializer), ReplicaEndpoint.Name),
        };
        var forger = ActorSystem.Create("forger", ForgerConfig(binding));
        try
        {
            var endpoint = forger.ActorSelection(new RootActorPath(nodeAddress) / "user" / path);
            var reply = await endpoint.Ask<object>(new Forged("a-message-from-the-future", [0x08, 0x01]), TimeSpan.FromSeconds(10));
            var error = Assert.IsType<StoreError>(reply);
            Assert.Equal(StoreErrorCode.Unsupported, error.Code);
            Assert.Contains("a-message-from-the-future", error.Message);
            // The same association still carries a real request.
            object request = protocol switch
            {
                "store" => ListBuckets.Instance,
                "chunks" => new ChunkTransferProtocol.WhichChunks([]),
                _ => ReplicaProtocol.ListLocalBuckets.Instance,
            };
            var answer = await endpoint.Ask<object>(request, TimeSpan.FromSeconds(10));
            Assert.IsType(protocol == "chunks" ? typeof(ChunkTransferProtocol.ChunksHeld) : typeof(BucketListing), answer);
        }
        finally
        {
            await forger.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
        }
        var file = WriteRandomFile("in", 100_000, 2);
        await Within(client.PutFileAsync(file, "photos", "after"));
    }
}
