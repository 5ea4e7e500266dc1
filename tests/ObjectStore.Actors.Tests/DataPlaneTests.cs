using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using ObjectStore.Actors.Client;
using ObjectStore.Actors.Protocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Tests;

public class DataPlaneTests : StoreTestKit
{
    [Fact]
    public async Task With_the_data_plane_off_puts_go_as_frames_and_round_trip()
    {
        Settings = Settings with { DataPlane = false };
        var client = StartNode();
        var probe = CreateTestProbe();
        client.Node.Tell(new PutObject("photos", "x", 10), probe.Ref);
        Assert.Equal(0, probe.ExpectMsg<UploadReady>().DataPort);

        var source = WriteRandomFile("in", 700_000, 1);
        await Within(client.PutFileAsync(source, "photos", "frames"));
        await Within(client.GetFileAsync("photos", "frames", Path.Combine(WorkDirectory, "out")));
        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(Path.Combine(WorkDirectory, "out")));
    }

    [Fact]
    public async Task A_connection_with_an_unknown_token_is_closed_and_changes_nothing()
    {
        var client = StartNode();
        var probe = CreateTestProbe();
        client.Node.Tell(new PutObject("photos", "x", 10), probe.Ref);
        var ready = probe.ExpectMsg<UploadReady>();

        using var tcp = new TcpClient();
        await tcp.ConnectAsync(ready.DataHost, ready.DataPort);
        var stream = tcp.GetStream();
        await stream.WriteAsync(new byte[16]);
        await stream.WriteAsync(new byte[100]);
        var read = await stream.ReadAsync(new byte[1]).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(0, read); // closed by the node
        Assert.Empty((await Within(client.ListAsync("photos", ""))).Objects);
    }

    [Fact]
    public async Task A_data_connection_that_ends_early_fails_the_put_and_stores_nothing()
    {
        var client = StartNode();
        var probe = CreateTestProbe();
        client.Node.Tell(new PutObject("photos", "short", 2000), probe.Ref);
        var ready = probe.ExpectMsg<UploadReady>();

        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(ready.DataHost, ready.DataPort);
            await tcp.GetStream().WriteAsync(ready.DataToken);
            await tcp.GetStream().WriteAsync(new byte[1000]);
            tcp.Client.Shutdown(SocketShutdown.Send);
            ready.Session.Tell(new UploadComplete(2000, UploadComplete.ViaDataPort), probe.Ref);
            var error = probe.ExpectMsg<StoreError>(TimeSpan.FromSeconds(10));
            Assert.Equal(StoreErrorCode.InvalidRequest, error.Code);
            Assert.Contains("node received 1000", error.Message);
        }
        Assert.Empty((await Within(client.ListAsync("photos", ""))).Objects);
        Assert.Empty(ChunkFiles());
    }

    [Fact]
    public void A_client_that_cannot_reach_the_data_port_falls_back_to_frames()
    {
        var node = CreateTestProbe();
        var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var closedPort = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        var file = WriteRandomFile("in", 100_000, 2);
        var result = new TaskCompletionSource<PutCompleted>();

        Sys.ActorOf(FileUploaderActor.Props(node.Ref, file, "photos", "k", TimeSpan.FromSeconds(10), result));
        node.ExpectMsg<PutObject>();
        // A window of one frame: the file is larger, so the uploader tries the data port first.
        node.Reply(new UploadReady(node.Ref, 1, 65536, "127.0.0.1", closedPort, [1, 2, 3, 4]));

        var first = node.ExpectMsg<DataFrame>(TimeSpan.FromSeconds(10));
        Assert.Equal(0, first.Sequence);
        Assert.Equal(File.ReadAllBytes(file).AsSpan(0, 65536).ToArray(), first.Data.ToArray());
    }
}
