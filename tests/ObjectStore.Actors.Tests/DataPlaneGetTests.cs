using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using ObjectStore.Actors.Client;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Hashing;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Tests;

/// <summary>Gets of objects larger than a window of frames travel on the node's data port.</summary>
public class DataPlaneGetTests : StoreTestKit
{
    private const int Large = 3 * 1024 * 1024; // more than the default window: 32 frames of 64 KiB

    [Fact]
    public async Task A_large_get_is_offered_the_data_port_and_reads_back_identical()
    {
        var client = StartNode();
        var source = WriteRandomFile("in", Large, 1);
        await Within(client.PutFileAsync(source, "photos", "big"));
        var probe = CreateTestProbe();

        client.Node.Tell(new GetObject("photos", "big", Settings.Window), probe.Ref);
        var ready = probe.ExpectMsg<DownloadReady>();
        Assert.True(ready.DataPort > 0);
        Assert.Equal(16, ready.DataToken.Length);
        ready.Session.Tell(new CancelTransfer("test done"));

        var target = Path.Combine(WorkDirectory, "out");
        await Within(client.GetFileAsync("photos", "big", target));
        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(target));
    }

    [Fact]
    public async Task A_get_of_one_frame_goes_as_a_frame_at_once_and_a_larger_one_is_offered_the_data_plane()
    {
        var client = StartNode();
        await Within(client.PutFileAsync(WriteRandomFile("in", 50_000, 2), "photos", "small"));
        await Within(client.PutFileAsync(WriteRandomFile("in2", 100_000, 3), "photos", "medium"));
        var probe = CreateTestProbe();

        client.Node.Tell(new GetObject("photos", "small", Settings.Window), probe.Ref);
        Assert.Equal(0, probe.ExpectMsg<DownloadReady>().DataPort);
        Assert.Equal(0, probe.ExpectMsg<DataFrame>().Sequence);
        probe.FishForMessage(m => m is DownloadComplete, TimeSpan.FromSeconds(10)); // the rest of its frames (one per chunk)

        // Two frames' worth, less than a window: the client chooses (a hand-over on this machine, else frames).
        client.Node.Tell(new GetObject("photos", "medium", Settings.Window), probe.Ref);
        var ready = probe.ExpectMsg<DownloadReady>();
        Assert.True(ready.DataPort > 0);
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // no frame before the client asks for frames
        ready.Session.Tell(new FrameAck(-1), probe.Ref);
        Assert.Equal(0, probe.ExpectMsg<DataFrame>().Sequence);
        ready.Session.Tell(new CancelTransfer("test done"));
    }

    [Fact]
    public async Task A_get_client_away_from_the_node_asks_for_frames_at_once_for_an_object_smaller_than_a_window()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            // Window 4 of 64 KiB frames: 100,000 bytes are not worth a connection; no hand-over is offered.
            await GetAsFramesAfterOffering(frameSize: 64 * 1024, ((IPEndPoint)listener.LocalEndpoint).Port, seed: 4);
            Assert.False(listener.Pending(), "the client connected to the data port for an object smaller than a window");
        }
        finally
        {
            listener.Stop();
        }
    }

    [Fact]
    public async Task A_get_client_that_cannot_reach_the_data_port_asks_for_frames_and_gets_the_object() =>
        // Frames of 1 KiB: 100,000 bytes are more than a window of them, worth a connection, which fails.
        await GetAsFramesAfterOffering(frameSize: 1024, ClosedPort(), seed: 3);

    [LinuxFact]
    public async Task A_get_whose_hand_over_is_refused_asks_for_frames_and_gets_the_object() =>
        // Nobody listens on that socket name: the hand-over fails, and 100,000 bytes are not worth a connection.
        await GetAsFramesAfterOffering(frameSize: 64 * 1024, ClosedPort(), seed: 5, handOver: $"objectstore-test-nobody-{Guid.NewGuid():N}");

    /// <summary>
    /// A stand-in node offers its data port (and a hand-over socket) for an object of 100,000 bytes; the client
    /// must ask for frames (FrameAck(-1)), and the object it then gets as two frames must be the file it writes.
    /// </summary>
    private async Task GetAsFramesAfterOffering(int frameSize, int dataPort, int seed, string handOver = "")
    {
        var node = CreateTestProbe();
        var data = new byte[100_000];
        new Random(seed).NextBytes(data);
        var info = new ObjectInfo("photos", "k", "v1", data.Length, ContentHash.Compute(data), 1, 1);
        var target = Path.Combine(WorkDirectory, "out");
        var result = new TaskCompletionSource<ObjectInfo>(TaskCreationOptions.RunContinuationsAsynchronously);

        Sys.ActorOf(FileDownloaderActor.Props(node.Ref, "photos", "k", target, 4, frameSize, TimeSpan.FromSeconds(10), result));
        node.ExpectMsg<GetObject>();
        node.Reply(new DownloadReady(info, node.Ref, "127.0.0.1", dataPort, [1, 2, 3, 4], handOver));

        Assert.Equal(-1, node.ExpectMsg<FrameAck>(TimeSpan.FromSeconds(10)).Sequence);
        node.Reply(new DataFrame(0, data.AsMemory(0, 60_000)));
        node.Reply(new DataFrame(1, data.AsMemory(60_000)));
        node.Reply(new DownloadComplete(data.Length));
        await result.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(data, File.ReadAllBytes(target));
    }

    [Fact]
    public async Task A_data_connection_that_ends_early_fails_the_get_and_leaves_no_file()
    {
        var (error, target) = await GetFromAFakeNodeThatStopsHalfway(reason: null);

        Assert.Contains("photos/k", error.Message);
        Assert.Contains($"closed after {Large / 2} of {Large} bytes", error.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(target)!));
    }

    [Fact]
    public async Task When_the_node_gives_a_reason_for_ending_the_connection_the_get_fails_with_that_reason()
    {
        var (error, target) = await GetFromAFakeNodeThatStopsHalfway(reason: "get of photos/k failed: chunk 0123456789ab is corrupt on disk");

        Assert.Equal(StoreErrorCode.Corrupt, error.Code);
        Assert.Contains("corrupt on disk", error.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(target)!));
    }

    [Fact]
    public async Task A_get_client_that_goes_away_ends_the_node_side_of_the_transfer()
    {
        var client = StartNode();
        await Within(client.PutFileAsync(WriteRandomFile("in", 8 * 1024 * 1024, 4), "photos", "big"));
        var probe = CreateTestProbe();
        client.Node.Tell(new GetObject("photos", "big", Settings.Window), probe.Ref);
        var ready = probe.ExpectMsg<DownloadReady>();
        probe.Watch(ready.Session);

        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(ready.DataHost, ready.DataPort);
            await tcp.GetStream().WriteAsync(ready.DataToken);
            await tcp.GetStream().ReadExactlyAsync(new byte[1000]).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            tcp.Client.LingerState = new LingerOption(true, 0); // close with a reset, as a killed client would
        }

        var error = probe.ExpectMsg<StoreError>(TimeSpan.FromSeconds(20));
        Assert.Contains("data connection failed", error.Message);
        probe.ExpectTerminated(ready.Session, TimeSpan.FromSeconds(10));
    }

    /// <summary>A stand-in node whose data port sends half of the object and closes; optionally it also says why.</summary>
    private async Task<(StoreException Error, string Target)> GetFromAFakeNodeThatStopsHalfway(string? reason)
    {
        var node = CreateTestProbe();
        var data = new byte[Large];
        new Random(5).NextBytes(data);
        var info = new ObjectInfo("photos", "k", "v1", data.Length, ContentHash.Compute(data), 1, 3);
        Directory.CreateDirectory(Path.Combine(WorkDirectory, "dl"));
        var target = Path.Combine(WorkDirectory, "dl", "out");
        var result = new TaskCompletionSource<ObjectInfo>(TaskCreationOptions.RunContinuationsAsynchronously);
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            Sys.ActorOf(FileDownloaderActor.Props(node.Ref, "photos", "k", target, 4, 1024, TimeSpan.FromSeconds(20), result));
            node.ExpectMsg<GetObject>();
            node.Reply(new DownloadReady(info, node.Ref, "127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port, [7, 7, 7]));
            using (var connection = await listener.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(10)))
            {
                var token = new byte[3];
                await connection.GetStream().ReadExactlyAsync(token).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
                Assert.Equal([7, 7, 7], token);
                await connection.GetStream().WriteAsync(data.AsMemory(0, Large / 2));
            }
            if (reason is not null) node.Reply(new StoreError(StoreErrorCode.Corrupt, reason));
            var error = await Assert.ThrowsAsync<StoreException>(() => result.Task.WaitAsync(TimeSpan.FromSeconds(20)));
            Assert.False(File.Exists(target));
            return (error, target);
        }
        finally
        {
            listener.Stop();
        }
    }

    private static int ClosedPort()
    {
        var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var port = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        return port;
    }
}
