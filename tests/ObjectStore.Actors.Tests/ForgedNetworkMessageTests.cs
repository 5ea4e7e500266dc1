using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using ObjectStore.Actors.Client;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Replication;
using ObjectStore.Actors.Serialization;

namespace ObjectStore.Actors.Tests;

/// <summary>Raw bytes sent under a real serializer id and manifest: what a buggy or hostile peer could put on the wire.</summary>
public sealed record Forged(string Manifest, byte[] Bytes);

public abstract class ForgingSerializer(ExtendedActorSystem system, int id) : SerializerWithStringManifest(system)
{
    public override int Identifier => id;
    public override string Manifest(object o) => ((Forged)o).Manifest;
    public override byte[] ToBinary(object obj) => ((Forged)obj).Bytes;
    public override object FromBinary(byte[] bytes, string manifest) => new Forged(manifest, bytes);
}

public sealed class ForgingStoreSerializer(ExtendedActorSystem system) : ForgingSerializer(system, StoreMessageSerializer.SerializerId);

public sealed class ForgingReplicationSerializer(ExtendedActorSystem system) : ForgingSerializer(system, ReplicationMessageSerializer.SerializerId);

/// <summary>
/// A second actor system, standing in for a broken or hostile peer, sends truncated and garbage
/// messages over real Akka.Remote to a node's replicator and coordinator. The node must drop each one
/// and keep working: the same connection still carries the next message, and puts and gets still work.
/// </summary>
public class ForgedNetworkMessageTests : StoreTestKit
{
    [Fact]
    public async Task Truncated_and_garbage_messages_from_the_network_are_dropped_and_the_node_keeps_working()
    {
        var client = StartNode();
        var logs = CreateTestProbe();
        Sys.EventStream.Subscribe(logs.Ref, typeof(Akka.Event.Warning));
        Sys.EventStream.Subscribe(logs.Ref, typeof(Akka.Event.Error));
        var nodeAddress = ((ExtendedActorSystem)Sys).Provider.DefaultAddress;
        var forgerConfig = ConfigurationFactory.ParseString($$"""
            akka.actor.serializers.objectstore = "{{typeof(ForgingStoreSerializer).AssemblyQualifiedName}}"
            akka.actor.serializers.objectstore-replication = "{{typeof(ForgingReplicationSerializer).AssemblyQualifiedName}}"
            akka.actor.serializers.forged = "{{typeof(ForgingReplicationSerializer).AssemblyQualifiedName}}"
            akka.actor.serialization-bindings { "{{typeof(Forged).AssemblyQualifiedName}}" = forged }
            akka.actor.serialize-messages = off
            """).WithFallback(TestConfig);
        var forger = ActorSystem.Create("forger", forgerConfig);
        try
        {
            var replicator = forger.ActorSelection(new RootActorPath(nodeAddress) / "user" / Replicator.Name);
            var random = new Random(7);
            foreach (var manifest in new[] { "offer", "part", "commit", "findok", "which", "send", "fetch", "nonsense" })
            {
                replicator.Tell(new Forged(manifest, []));
                for (var i = 0; i < 20; i++)
                {
                    var garbage = new byte[random.Next(1, 200)];
                    random.NextBytes(garbage);
                    replicator.Tell(new Forged(manifest, garbage));
                }
            }
            // A forged count that claims a billion chunks, and a part far beyond the frame limit.
            replicator.Tell(new Forged("which", [0, 0xCA, 0x9A, 0x3B]));
            replicator.Tell(new Forged("part", new byte[100_000]));

            // The connection and the node are still there: an Identify over the same association is answered.
            var identity = await replicator.Ask<ActorIdentity>(new Identify(1), TimeSpan.FromSeconds(10));
            Assert.NotNull(identity.Subject);
            Assert.False(Sys.WhenTerminated.IsCompleted);
            // ... and each forged message did reach the node's deserializer, which refused it without
            // dropping the association: 7 manifests x 21 messages plus the forged count. (Random bytes
            // under "part" that happen to form a valid header are a part of no transfer, which the
            // replicator ignores; the empty and the oversized part are refused.)
            var refused = logs.ReceiveWhile(TimeSpan.FromSeconds(2), o => (Akka.Event.LogEvent)o)
                .Select(e => e.ToString()!)
                .Where(e => e.Contains("SerializerId=1702") && e.Contains("association remains live"))
                .ToList();
            Assert.Equal(7 * 21 + 1, refused.Count(e => !e.Contains("Manifest=part]")));
            Assert.True(refused.Count(e => e.Contains("Manifest=part]")) >= 2);
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
}
