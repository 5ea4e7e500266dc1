using System.Buffers.Binary;
using System.Net.Sockets;
using Akka.Actor;
using ObjectStore.Actors.Replication;
using ObjectStore.Actors.Transfer;
using ObjectStore.Core.Hashing;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;

namespace ObjectStore.Actors.Tests;

/// <summary>
/// Chunk bodies between nodes on node-to-node data connections (replication.data-connections): a put's
/// copies and a get's chunks from other holders go there; a connection cut mid-chunk is retried and
/// leaves nothing; a forged or replayed token is refused.
/// </summary>
public sealed class DataConnectionTests : ClusterTestKit
{
    [Fact]
    public async Task A_puts_copies_and_a_gets_chunks_from_other_holders_travel_on_data_connections()
    {
        Cluster = new TestCluster(ClusterRoot, factor: 2, quorum: 2, lateCopyGrace: TimeSpan.FromSeconds(10));
        await Cluster.StartAsync(3);
        var file = WriteRandomFile("in", 3_000_000, 1);

        var put = await Within(Cluster.Nodes[0].Client.PutFileAsync(file, "photos", "cat.jpg"));

        Assert.Equal("stored on 2 of 2 nodes", put.Durability);
        var details = await Within(Cluster.Nodes[0].Client.StatAsync("photos", "cat.jpg"));
        var chunks = details.Chunks.Select(c => c.Id).ToHashSet();
        foreach (var peer in Cluster.Nodes.Skip(1))
        {
            // Every chunk a peer holds came from node 1, each as one body on the peer's data plane.
            var held = chunks.Count(id => peer.ChunkIds().Contains(id));
            Assert.True(held > 0);
            Assert.Equal(held, peer.Handles.DataPlane!.TokensAccepted);
        }

        foreach (var node in Cluster.Nodes)
        {
            var lacking = chunks.Count(id => !node.ChunkIds().Contains(id));
            var before = node.Handles.DataPlane!.TokensAccepted;
            var target = Path.Combine(WorkDirectory, $"out-{node.Index}");
            await Within(node.Client.GetFileAsync("photos", "cat.jpg", target));
            Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(target));
            Assert.True(node.Handles.DataPlane.TokensAccepted - before >= lacking,
                $"node {node.Index + 1} lacks {lacking} chunks but took {node.Handles.DataPlane.TokensAccepted - before} bodies on its data plane");
        }
    }

    [Fact]
    public async Task A_get_whose_chunk_is_corrupt_on_the_first_other_node_it_fetches_from_takes_the_next_and_leaves_nothing_half_written()
    {
        Cluster = new TestCluster(ClusterRoot, factor: 2, quorum: 2, antiEntropy: TimeSpan.FromHours(1), lateCopyGrace: TimeSpan.FromSeconds(10));
        await Cluster.StartAsync(3);
        var reader = Cluster.Nodes[0];
        var file = WriteRandomFile("in", 5_000_000, 4);
        await Within(Cluster.Nodes[1].Client.PutFileAsync(file, "photos", "far"));
        var chunks = (await Within(reader.Client.StatAsync("photos", "far"))).Chunks.Select(c => c.Id).ToList();
        // A chunk the reading node does not hold, corrupt on the first of its owners (the first node a get asks).
        var (far, first) = Cluster.FarChunk(reader, chunks, 2);
        var path = first.Handles.Chunks.PathOf(far);
        var bytes = File.ReadAllBytes(path);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(path, bytes);

        var target = Path.Combine(WorkDirectory, "far-out");
        await Within(reader.Client.GetFileAsync("photos", "far", target));

        Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(target));
        Assert.Equal(1, first.Handles.Chunks.QuarantinedCount());
        Assert.Empty(Directory.GetFiles(WorkDirectory, ".far-out.*"));
    }

    [Fact]
    public async Task A_data_connection_cut_mid_chunk_is_retried_and_nothing_partial_is_kept()
    {
        Cluster = new TestCluster(ClusterRoot, factor: 3, quorum: 3, lateCopyGrace: TimeSpan.FromSeconds(10));
        var cuts = 0;
        // Node 1's first two chunk bodies stop half-way: the connection is closed under them.
        await Cluster.StartAsync(3, linkFaults: i => i == 0 ? new DataLinkFaults(() => Interlocked.Increment(ref cuts) <= 2) : null);
        var file = WriteRandomFile("in", 1_000_000, 2);

        var put = await Within(Cluster.Nodes[0].Client.PutFileAsync(file, "photos", "cut"));

        Assert.Equal("stored on 3 of 3 nodes", put.Durability);
        Assert.True(cuts > 2, "the fault was never hit: no body went on a data connection");
        var stats = await Within(Cluster.Nodes[0].System.ActorSelection($"/user/{OutgoingPushes.Name}")
            .Ask<List<OutgoingPushes.PeerPushes>>(OutgoingPushes.GetPushStats.Instance, TimeSpan.FromSeconds(10)));
        Assert.Equal(2, stats.Sum(s => s.FailedAttempts));
        Assert.Equal(0, stats.Sum(s => s.GivenUp));
        var chunks = (await Within(Cluster.Nodes[0].Client.StatAsync("photos", "cut"))).Chunks.Select(c => c.Id).ToHashSet();
        foreach (var node in Cluster.Nodes)
        {
            Assert.Equal(chunks, node.ChunkIds());
            foreach (var id in node.ChunkIds()) node.Handles.Chunks.Read(id, verify: true); // throws on a torn or partial file
            Assert.Equal(0, node.Handles.Chunks.QuarantinedCount());
            var target = Path.Combine(WorkDirectory, $"out-{node.Index}");
            await Within(node.Client.GetFileAsync("photos", "cut", target));
            Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(target));
        }
    }

    [Fact]
    public async Task A_forged_or_replayed_token_on_the_node_to_node_data_port_is_refused()
    {
        Cluster = new TestCluster(ClusterRoot, factor: 1, quorum: 1);
        await Cluster.StartAsync(1);
        var node = Cluster.Nodes[0];
        var peer = CreateTestProbe(node.System); // stands in for another node pushing chunks
        var endpoint = node.System.ActorSelection($"/user/{ChunkEndpoint.Name}");
        var body = new byte[100_000];
        new Random(3).NextBytes(body);
        var id = ContentHash.Compute(body);

        endpoint.Tell(new OfferChunk(1, "upload-test", id, body.Length), peer.Ref);
        var route = peer.ExpectMsg<SendChunk>(TimeSpan.FromSeconds(10)).Route!;
        Assert.NotNull(route);

        var forged = (byte[])route.Token.Clone();
        forged[0] ^= 0xFF;
        Assert.True(await ClosedByNodeAsync(route, forged, body), "a forged token was not refused");
        peer.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        Assert.False(node.Handles.Chunks.Contains(id));

        using (var genuine = await SendBodyAsync(route, route.Token, body))
        {
            peer.ExpectMsg<ChunkDurable>(m => m.TransferId == 1, TimeSpan.FromSeconds(10));
            Assert.True(node.Handles.Chunks.Contains(id));
        }

        var other = body.Select(b => (byte)~b).ToArray();
        Assert.True(await ClosedByNodeAsync(route, route.Token, other), "a replayed token was not refused");
        peer.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        Assert.False(node.Handles.Chunks.Contains(ContentHash.Compute(other)));

        // A live token with a body of another length than offered: refused, nothing stored.
        endpoint.Tell(new OfferChunk(2, "upload-test", ContentHash.Compute(other), other.Length), peer.Ref);
        var second = peer.ExpectMsg<SendChunk>(TimeSpan.FromSeconds(10)).Route!;
        using (await SendBodyAsync(second, second.Token, other[..50_000]))
        {
            var refused = peer.ExpectMsg<TransferFailed>(m => m.TransferId == 2, TimeSpan.FromSeconds(10));
            Assert.Contains("50000 bytes", refused.Reason);
        }
        Assert.False(node.Handles.Chunks.Contains(ContentHash.Compute(other)));
    }

    private static async Task<TcpClient> SendBodyAsync(DataRoute route, byte[] token, byte[] body)
    {
        var client = new TcpClient();
        await client.ConnectAsync(route.Host, route.Port).WaitAsync(TimeSpan.FromSeconds(10));
        var header = new byte[DataPlane.TokenSize + ChunkBody.LengthSize];
        token.CopyTo(header, 0);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(DataPlane.TokenSize), body.Length);
        var stream = client.GetStream();
        await stream.WriteAsync(header);
        try
        {
            await stream.WriteAsync(body);
        }
        catch (IOException)
        {
            // The node may close before the whole body is written; the caller checks that.
        }
        return client;
    }

    /// <summary>Whether the node closed the connection (within 10 s) after the token and body were sent.</summary>
    private static async Task<bool> ClosedByNodeAsync(DataRoute route, byte[] token, byte[] body)
    {
        using var client = await SendBodyAsync(route, token, body);
        // Writing the body failed because the node reset the connection (the socket no longer counts as connected).
        if (!client.Connected) return true;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            return await client.GetStream().ReadAsync(new byte[1], timeout.Token) == 0;
        }
        catch (IOException)
        {
            return true; // reset by the node
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
