using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using ObjectStore.Actors.Client;

namespace ObjectStore.Actors.Tests;

/// <summary>Two nodes in one test process, each its own actor system on 127.0.0.1 with a free port, joined into one cluster.</summary>
public class ClusterMembersTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly Config ClusterConfig = ConfigurationFactory.ParseString("""
        akka.actor.provider = cluster
        # Two copies: every chunk on both nodes.
        objectstore.replication.factor = 2
        objectstore.replication.write-quorum = 2
        """).WithFallback(StoreTestKit.TestConfig);

    private readonly string _root = Root;

    private static readonly string Root = Path.Combine(Path.GetTempPath(), "objectstore-cluster-tests", Guid.NewGuid().ToString("N"));

    public ClusterMembersTests() : base(StoreNode.WithNodeRole(ClusterConfig, Path.Combine(Root, "a")), "objectstore") { }

    private StoreSettings SettingsFor(string name) =>
        StoreSettings.FromConfig(ClusterConfig) with { DataDirectory = Path.Combine(_root, name), RequestTimeout = TimeSpan.FromSeconds(10) };

    /// <summary>Node a on the test kit's system, node b on <paramref name="second"/>, joined and both Up.</summary>
    private async Task<(StoreNode.Handles A, StoreNode.Handles B)> StartTwoNodeClusterAsync(ActorSystem second)
    {
        var nodeA = StoreNode.Start(Sys, SettingsFor("a"));
        var nodeB = StoreNode.Start(second, SettingsFor("b"));
        Cluster.Get(Sys).Join(Cluster.Get(Sys).SelfAddress);
        Cluster.Get(second).Join(Cluster.Get(Sys).SelfAddress);
        await AwaitAssertAsync(() => Assert.Equal(2, Cluster.Get(Sys).State.Members.Count(m => m.Status == MemberStatus.Up)),
            TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200));
        return (nodeA, nodeB);
    }

    [Fact]
    public async Task Members_lists_every_node_with_its_own_id_and_chunk_count()
    {
        var second = ActorSystem.Create("objectstore", StoreNode.WithNodeRole(ClusterConfig, Path.Combine(_root, "b")));
        try
        {
            var (nodeA, nodeB) = await StartTwoNodeClusterAsync(second);

            var client = new StoreClient(Sys, nodeA.Coordinator, SettingsFor("a"));
            var file = Path.Combine(_root, "in.bin");
            var data = new byte[600_000];
            new Random(1).NextBytes(data);
            File.WriteAllBytes(file, data);
            var put = await client.PutFileAsync(file, "photos", "x").WaitAsync(TimeSpan.FromSeconds(30));

            var listing = await client.MembersAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(2, listing.Members.Count);
            var a = Assert.Single(listing.Members, m => m.NodeId == nodeA.NodeId);
            var b = Assert.Single(listing.Members, m => m.NodeId == nodeB.NodeId);
            Assert.All(listing.Members, m => Assert.Equal("Up", m.Status));
            Assert.All(listing.Members, m => Assert.Contains("storage", m.Roles));
            Assert.Equal((1, put.Object.ChunkCount), (a.Objects, a.Chunks));
            // Two nodes, factor 3: each holds a copy of everything.
            Assert.Equal((1, put.Object.ChunkCount), (b.Objects, b.Chunks));
        }
        finally
        {
            await second.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    [Fact]
    public async Task A_member_that_does_not_answer_is_listed_by_its_id_without_counts_and_the_listing_comes_back_in_time()
    {
        var second = ActorSystem.Create("objectstore", StoreNode.WithNodeRole(ClusterConfig, Path.Combine(_root, "b")));
        try
        {
            var (nodeA, nodeB) = await StartTwoNodeClusterAsync(second);
            // Node b stays a member but its coordinator is gone: asked for its status, it never answers.
            // (Asked with the whole request timeout, as before, the listing itself timed out.)
            await WatchAndStop(second, nodeB.Coordinator);

            var client = new StoreClient(Sys, nodeA.Coordinator, SettingsFor("a"));
            var listing = await client.MembersAsync().WaitAsync(TimeSpan.FromSeconds(30));

            Assert.Equal(2, listing.Members.Count);
            var a = Assert.Single(listing.Members, m => m.NodeId == nodeA.NodeId);
            Assert.True(a.Objects >= 0);
            var b = Assert.Single(listing.Members, m => m.NodeId == nodeB.NodeId);
            Assert.Equal((-1L, -1L), (b.Objects, b.Chunks));
        }
        finally
        {
            await second.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    private async Task WatchAndStop(ActorSystem system, IActorRef actor)
    {
        var probe = CreateTestProbe(system);
        probe.Watch(actor);
        system.Stop(actor);
        await probe.ExpectTerminatedAsync(actor, TimeSpan.FromSeconds(10));
    }

    protected override void AfterAll()
    {
        base.AfterAll();
        try { Directory.Delete(_root, recursive: true); }
        catch (IOException) { }
    }
}
