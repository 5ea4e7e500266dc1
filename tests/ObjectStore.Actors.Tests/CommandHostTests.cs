using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using ObjectStore.Actors.Client;
using ObjectStore.Actors.Commands;

namespace ObjectStore.Actors.Tests;

/// <summary>The command host against bad and many clients: it answers an error and keeps serving.</summary>
public class CommandHostTests : StoreTestKit
{
    private CommandHost StartHost(out StoreClient client)
    {
        client = StartNode();
        var log = RecentLog.Start(Sys);
        var config = TestConfig;
        return CommandHost.Start(address => new CommandContext(Sys, config, Settings, Node!, log, address, DateTimeOffset.UtcNow),
            config.GetString("objectstore.cmd.host"), 0, CommandPalettes.BuiltIn());
    }

    private static async Task<List<CommandReply>> RunAsync(int port, string palette, string command, params string[] args)
    {
        using var client = await CommandClient.ConnectAsync("127.0.0.1", port, TimeSpan.FromSeconds(10));
        var replies = new List<CommandReply>();
        await foreach (var reply in client.RunAsync(palette, command, args)) replies.Add(reply);
        return replies;
    }

    /// <summary>Sends raw bytes on a fresh connection and reads the first reply frame (null: the host closed without one).</summary>
    private static async Task<(byte[]? Reply, NetworkStream Stream, TcpClient Tcp)> SendRawAsync(int port, byte[] bytes)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(bytes);
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return (await CommandFraming.ReadAsync(stream, CommandFraming.MaxReplyBytes, limit.Token), stream, tcp);
    }

    private static byte[] Frame(byte[] body)
    {
        var frame = new byte[4 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, body.Length);
        body.CopyTo(frame, 4);
        return frame;
    }

    private static string ErrorOf(byte[]? reply) => Protocol.Wire.Cmd.CmdReply.Parser.ParseFrom(reply).Error;

    [Fact]
    public void The_command_host_binds_loopback_by_default()
    {
        Assert.Equal("127.0.0.1", StoreConfig.Defaults.GetString("objectstore.cmd.host"));
        using var host = StartHost(out _);
        using var probe = new TcpClient();
        Assert.Throws<SocketException>(() => probe.Connect(OtherAddressOfThisMachine() ?? throw new SocketException(), host.Port));
    }

    /// <summary>An address of this machine that is not loopback (a loopback-only host must refuse it), if it has one.</summary>
    private static IPAddress? OtherAddressOfThisMachine() =>
        System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(n => n.GetIPProperties().UnicastAddresses).Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));

    [Fact]
    public async Task A_malformed_request_gets_an_error_and_the_same_connection_goes_on()
    {
        using var host = StartHost(out _);

        var (reply, stream, tcp) = await SendRawAsync(host.Port, Frame([0xFF, 0xFF, 0xFF, 0xFF, 0x0F]));
        using (tcp)
        {
            Assert.StartsWith("malformed request", ErrorOf(reply));
            var request = new Protocol.Wire.Cmd.CmdRequest { Palette = "store", Command = "stats" };
            await CommandFraming.WriteAsync(stream, request, default);
            var next = await CommandFraming.ReadAsync(stream, CommandFraming.MaxReplyBytes, default);
            Assert.Equal("objects", Protocol.Wire.Cmd.CmdReply.Parser.ParseFrom(next).Table.Rows[0].Cells[0]);
        }
    }

    [Fact]
    public async Task An_oversized_or_garbage_request_gets_an_error_the_connection_closes_and_the_host_keeps_serving()
    {
        using var host = StartHost(out _);

        var (oversized, _, tcp1) = await SendRawAsync(host.Port, [0x00, 0x10, 0x00, 0x01]); // 1 MiB + 1 announced
        using (tcp1) Assert.Contains($"at most {CommandFraming.MaxRequestBytes}", ErrorOf(oversized));
        var (garbage, _, tcp2) = await SendRawAsync(host.Port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        using (tcp2) Assert.Contains("a frame of", ErrorOf(garbage));

        var stats = await RunAsync(host.Port, "store", "stats");
        Assert.Equal("objects", Assert.Single(stats).Table!.Rows[0][0]);
        var unknown = await RunAsync(host.Port, "nope", "x");
        Assert.StartsWith("unknown palette 'nope'", Assert.Single(unknown).Error);
        var badSwitch = await RunAsync(host.Port, "actor", "hierarchy", "-z");
        Assert.StartsWith("unknown switch '-z'", Assert.Single(badSwitch).Error);
    }

    [Fact]
    public async Task Fifty_clients_at_once_are_all_served()
    {
        using var host = StartHost(out _);

        var answers = await Within(Task.WhenAll(Enumerable.Range(0, 50).Select(_ => RunAsync(host.Port, "node", "info"))), 60);

        Assert.All(answers, a => Assert.Contains(a, r => r.Table?.Rows.Any(row => row[0] == "node" && row[1] == Node!.NodeId) == true));
        Assert.All(answers, a => Assert.All(a, r => Assert.Contains(Node!.NodeId, r.Node)));
    }
}
