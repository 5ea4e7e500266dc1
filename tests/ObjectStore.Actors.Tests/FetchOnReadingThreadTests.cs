using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Replication;
using ObjectStore.Actors.Transfer;
using ObjectStore.Core.Chunking;
using ObjectStore.Core.Hashing;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;

namespace ObjectStore.Actors.Tests;

/// <summary>
/// A holder serves a fetch that names a data route on the chunk reader's thread (<see cref="FetchOnReadingThread"/>):
/// here the fetcher's data plane is a listener of the test's, so what arrives on it is seen byte for byte.
/// </summary>
public sealed class FetchOnReadingThreadTests : ClusterTestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_fetched_chunk_arrives_whole_on_the_route_and_the_next_body_comes_on_the_same_connection()
    {
        var (node, ids) = await OneNodeWith(WriteRandomFile("in", 600_000, 1));
        using var plane = new TcpListener(IPAddress.Loopback, 0);
        plane.Start();
        var endpoint = node.System.ActorSelection($"/user/{ChunkEndpoint.Name}");
        var fetcher = CreateTestProbe(node.System);

        endpoint.Tell(new FetchChunk(1, ids[0], fetcher.Ref, Route(plane, 1), FetcherChecks: true), fetcher.Ref);
        using var connection = await plane.AcceptTcpClientAsync().WaitAsync(Wait);
        var stream = connection.GetStream();
        Assert.Equal(await File.ReadAllBytesAsync(node.Handles.Chunks.PathOf(ids[0])), await ReadBody(stream, 1));

        // The connection went back to the holder's pool: the next fetch's body follows on it, not on a new one.
        endpoint.Tell(new FetchChunk(2, ids[1], fetcher.Ref, Route(plane, 2), FetcherChecks: true), fetcher.Ref);
        Assert.Equal(await File.ReadAllBytesAsync(node.Handles.Chunks.PathOf(ids[1])), await ReadBody(stream, 2));
        Assert.False(plane.Pending());
        fetcher.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task A_chunk_the_holder_lacks_is_refused_to_the_fetcher_and_nothing_is_sent()
    {
        var (node, _) = await OneNodeWith(WriteRandomFile("in", 100_000, 2));
        using var plane = new TcpListener(IPAddress.Loopback, 0);
        plane.Start();
        var fetcher = CreateTestProbe(node.System);
        var absent = ContentHash.Compute("not stored here"u8);

        node.System.ActorSelection($"/user/{ChunkEndpoint.Name}").Tell(new FetchChunk(7, absent, fetcher.Ref, Route(plane, 7), FetcherChecks: true));

        var failed = fetcher.ExpectMsg<TransferFailed>(Wait);
        Assert.Equal((7L, StoreErrorCode.NotFound), (failed.TransferId, failed.Code));
        Assert.False(plane.Pending());
    }

    [Fact]
    public async Task A_route_whose_port_does_not_answer_gets_the_chunk_as_parts_over_akka_remote()
    {
        var (node, ids) = await OneNodeWith(WriteRandomFile("in", 300_000, 3));
        var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop(); // nothing listens there now
        var fetcher = CreateTestProbe(node.System);
        var expected = await File.ReadAllBytesAsync(node.Handles.Chunks.PathOf(ids[0]));

        node.System.ActorSelection($"/user/{ChunkEndpoint.Name}")
            .Tell(new FetchChunk(3, ids[0], fetcher.Ref, new DataRoute("127.0.0.1", port, new byte[DataPlane.TokenSize]), FetcherChecks: true), fetcher.Ref);

        var received = new byte[expected.Length];
        var count = 0;
        while (count < expected.Length)
        {
            var part = fetcher.ExpectMsg<ChunkPart>(m => m.TransferId == 3, Wait);
            part.Data.Span.CopyTo(received.AsSpan(part.Offset));
            count = part.Offset + part.Data.Length;
            fetcher.Reply(new ChunkPartAck(3, count));
        }
        Assert.Equal(expected, received);
    }

    [Fact]
    public async Task A_fetcher_that_stops_reading_is_told_the_connection_broke_after_the_transfer_timeout_and_that_connection_is_not_reused()
    {
        // One chunk of 32 MiB: more than the loopback's socket buffers hold, so the holder's write stalls.
        var chunking = StoreSettings.Default.Chunking with { Algorithm = ChunkingAlgorithm.Fixed, FixedSize = 32 * 1024 * 1024 };
        var (node, ids) = await OneNodeWith(WriteRandomFile("big", 32 * 1024 * 1024, 4), chunking);
        using var stalled = new TcpListener(IPAddress.Loopback, 0);
        stalled.Start();
        var endpoint = node.System.ActorSelection($"/user/{ChunkEndpoint.Name}");
        var fetcher = CreateTestProbe(node.System);

        endpoint.Tell(new FetchChunk(4, ids[0], fetcher.Ref, Route(stalled, 4), FetcherChecks: true));
        using var neverRead = await stalled.AcceptTcpClientAsync().WaitAsync(Wait);

        var broke = fetcher.ExpectMsg<TransferFailed>(m => m.TransferId == 4, Cluster!.Settings.Replication.TransferTimeout + Wait);
        Assert.Equal(StoreErrorCode.Unavailable, broke.Code);
        Assert.Contains("data connection broke", broke.Reason);

        // The stalled connection was closed, not pooled: a fetch to a plane that reads gets the chunk whole on a new one.
        using var plane = new TcpListener(IPAddress.Loopback, 0);
        plane.Start();
        endpoint.Tell(new FetchChunk(5, ids[0], fetcher.Ref, Route(plane, 5), FetcherChecks: true));
        using var connection = await plane.AcceptTcpClientAsync().WaitAsync(Wait);
        Assert.Equal(await File.ReadAllBytesAsync(node.Handles.Chunks.PathOf(ids[0])), await ReadBody(connection.GetStream(), 5));
    }

    private async Task<(TestCluster.Node Node, IReadOnlyList<ContentHash> Ids)> OneNodeWith(string file, ChunkerOptions? chunking = null)
    {
        Cluster = new TestCluster(ClusterRoot, factor: 1, quorum: 1, chunking: chunking);
        await Cluster.StartAsync(1);
        var node = Cluster.Nodes[0];
        await Within(node.Client.PutFileAsync(file, "photos", "a"), 60);
        return (node, (await Within(node.Client.StatAsync("photos", "a"))).Chunks.Select(c => c.Id).ToList());
    }

    /// <summary>A route to the test's listener whose token says which fetch a body belongs to.</summary>
    private static DataRoute Route(TcpListener plane, byte fetch)
    {
        var token = new byte[DataPlane.TokenSize];
        token[0] = fetch;
        return new DataRoute("127.0.0.1", ((IPEndPoint)plane.LocalEndpoint).Port, token);
    }

    /// <summary>One body as <see cref="ChunkBody"/> frames it: the token, the length, the bytes.</summary>
    private static async Task<byte[]> ReadBody(NetworkStream stream, byte fetch)
    {
        using var deadline = new CancellationTokenSource(Wait);
        var header = new byte[DataPlane.TokenSize + ChunkBody.LengthSize];
        await stream.ReadExactlyAsync(header, deadline.Token);
        Assert.Equal(fetch, header[0]);
        var body = new byte[BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(DataPlane.TokenSize))];
        await stream.ReadExactlyAsync(body, deadline.Token);
        return body;
    }
}
