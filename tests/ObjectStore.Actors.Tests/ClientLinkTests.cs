using System.Buffers.Binary;
using System.Net.Sockets;
using Akka.Actor;
using Google.Protobuf;
using ObjectStore.Actors.Client;
using ObjectStore.Actors.Commands;
using ObjectStore.Actors.Link;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Serialization;
using ObjectStore.Actors.Shell;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using W = ObjectStore.Actors.Protocol.Wire.Link;

namespace ObjectStore.Actors.Tests;

/// <summary>
/// A shell script on the node's machine talks to the node over its local link (a Unix socket named after the
/// node's address) without an actor system: small puts and gets, listings and stats go over it, an object that
/// needs a transfer session makes the client start its Akka.Remote one then, and what is malformed, forged, too
/// long or left waiting when the node goes is answered with an error, never with a hang or a wrong answer.
/// </summary>
public sealed class ClientLinkTests : StoreTestKit
{
    private Address NodeAddress => ((ExtendedActorSystem)Sys).Provider.DefaultAddress;

    private async Task<NodeLink> ConnectAsync() =>
        await NodeLink.TryConnectAsync(NodeAddress.Host!, NodeAddress.Port!.Value) ?? throw new InvalidOperationException("the node's link does not answer");

    private static async Task RunOk(StoreClient client, RecordingOutput output, string line) =>
        Assert.True(await Within(new ShellCommands(client, output).RunAsync(line)) == ShellOutcome.Ok, $"{line}: {string.Join("; ", output.Errors)}");

    [LinuxFact]
    public async Task A_tree_single_puts_and_gets_go_over_the_link_and_only_a_file_of_several_chunks_starts_a_transfer_client()
    {
        // Chunks of at least 300 KiB, so every file below that is one chunk and travels in a batch.
        Settings = Settings with { Chunking = SmallChunks with { MinSize = 300 * 1024, AverageSize = 512 * 1024, MaxSize = 1024 * 1024 } };
        var viaAkka = StartNode();
        await using var link = await ConnectAsync();
        var sessionsStarted = 0;
        var client = new StoreClient(link, Settings, () =>
        {
            sessionsStarted++;
            return Task.FromResult(viaAkka);
        });
        var tree = Path.Combine(WorkDirectory, "tree");
        Directory.CreateDirectory(Path.Combine(tree, "sub"));
        for (var i = 0; i < 150; i++) File.WriteAllBytes(Path.Combine(tree, i % 2 == 0 ? "sub" : "", $"f{i}"), RandomBytes(i * 37 % 5000, i));
        var output = new RecordingOutput();

        await RunOk(client, output, $"put -r '{tree}' linked/t");
        var back = Path.Combine(WorkDirectory, "back");
        await RunOk(client, output, $"get -r linked/t '{back}'");
        var listed = new RecordingOutput();
        await RunOk(client, listed, "ls linked/t/sub");
        var stat = new RecordingOutput();
        await RunOk(client, stat, "stat linked/t/f1");

        Assert.Equal(0, sessionsStarted);
        Assert.Equal(1, Node!.Link!.Served);
        foreach (var file in Directory.EnumerateFiles(tree, "*", SearchOption.AllDirectories))
            Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(back, Path.GetRelativePath(tree, file))));
        Assert.Equal(75, listed.Lines.Count(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"  t/sub/f\d+$")));
        Assert.Contains($"size     {new FileInfo(Path.Combine(tree, "f1")).Length} ", stat.Lines.Single(l => l.StartsWith("size")));

        // Single puts and gets of what a batch carries go as batches of one: a 200 KiB file (more than a request
        // carries, one chunk) and a single get, whose size the shell does not know before.
        var mid = WriteRandomFile("mid.bin", 200 * 1024, 8);
        await RunOk(client, output, $"put '{mid}' linked/mid.bin");
        await RunOk(client, output, $"get linked/mid.bin '{Path.Combine(WorkDirectory, "mid.out")}'");
        await RunOk(client, output, $"get linked/t/f1 '{Path.Combine(WorkDirectory, "f1.out")}'");
        // A tree of one file: its lone unit goes the single put's and get's way.
        var lone = Path.Combine(WorkDirectory, "lone");
        Directory.CreateDirectory(lone);
        File.WriteAllBytes(Path.Combine(lone, "only.bin"), RandomBytes(150 * 1024, 9));
        await RunOk(client, output, $"put -r '{lone}' linked/lone");
        await RunOk(client, output, $"get -r linked/lone '{Path.Combine(WorkDirectory, "lone.out")}'");
        Assert.Equal(File.ReadAllBytes(Path.Combine(lone, "only.bin")), File.ReadAllBytes(Path.Combine(WorkDirectory, "lone.out", "only.bin")));
        Assert.Equal(0, sessionsStarted);
        Assert.Equal(File.ReadAllBytes(mid), File.ReadAllBytes(Path.Combine(WorkDirectory, "mid.out")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(tree, "f1")), File.ReadAllBytes(Path.Combine(WorkDirectory, "f1.out")));
        var missing = new RecordingOutput();
        Assert.Equal(ShellOutcome.Failed, await Within(new ShellCommands(client, missing).RunAsync($"get linked/nothing '{Path.Combine(WorkDirectory, "nothing")}'")));
        Assert.Contains("no such object", Assert.Single(missing.Errors));
        Assert.False(File.Exists(Path.Combine(WorkDirectory, "nothing")));

        // A file of several chunks: put by the transfer client, asked for once; got as a batch of one (up to 8 MiB).
        var large = WriteRandomFile("large.bin", 2 * 1024 * 1024, 7);
        await RunOk(client, output, $"put '{large}' linked/large.bin");
        await RunOk(client, output, $"get linked/large.bin '{Path.Combine(WorkDirectory, "large.out")}'");
        Assert.Equal(1, sessionsStarted);
        Assert.Equal(File.ReadAllBytes(large), File.ReadAllBytes(Path.Combine(WorkDirectory, "large.out")));
        Assert.DoesNotContain(Directory.EnumerateFiles(WorkDirectory), f => Path.GetFileName(f).StartsWith('.')); // no temp file left
    }

    [LinuxFact]
    public async Task A_malformed_request_an_unknown_kind_and_a_target_that_is_not_this_nodes_are_refused_and_the_connection_goes_on()
    {
        StartNode();
        using var socket = RawConnect();
        using var stream = new NetworkStream(socket);
        var serializer = new StoreSerializer(null!);

        await WriteFrameAsync(stream, [0x0a, 0xff, 0xff]); // a field whose length runs past the end
        Assert.StartsWith("malformed link request", (await ReadReplyAsync(stream)).Error);

        await SendAsync(stream, new W.LinkRequest { Id = 2, Manifest = "ls", Payload = ByteString.CopyFrom(0xff, 0xff, 0xff) });
        var malformed = await ReadReplyAsync(stream);
        Assert.Equal(2UL, malformed.Id);
        Assert.Contains("malformed", malformed.Error);

        await SendAsync(stream, new W.LinkRequest { Id = 3, Manifest = "from-a-newer-version", TimeoutMs = 5000 });
        var unknown = await ReadReplyAsync(stream);
        Assert.Equal(StoreErrorCode.Unsupported, Assert.IsType<StoreError>(serializer.FromBinary(unknown.Payload.ToByteArray(), unknown.Manifest)).Code);

        foreach (var (id, target) in new[]
                 {
                     (4UL, "akka.tcp://objectstore@10.1.2.3:4053/user/coordinator"), // another node
                     (5UL, $"{NodeAddress}/system/deadLetters"), // not under /user
                     (6UL, "not a path"),
                 })
        {
            await SendAsync(stream, Request(serializer, id, ListBuckets.Instance, target));
            var refused = await ReadReplyAsync(stream);
            Assert.Equal(id, refused.Id);
            Assert.Contains("takes link requests", refused.Error);
        }

        await SendAsync(stream, Request(serializer, 7, ListBuckets.Instance));
        var listing = await ReadReplyAsync(stream);
        Assert.Equal(7UL, listing.Id);
        Assert.IsType<BucketListing>(serializer.FromBinary(listing.Payload.ToByteArray(), listing.Manifest));

        // A request that says it waits no time at all is not left waiting for ever (Akka's "default" timeout).
        var silent = Sys.ActorOf(Props.Empty, "silent");
        var impatient = Request(serializer, 8, new FilesHandedOver(), Akka.Serialization.Serialization.SerializedActorPath(silent));
        impatient.TimeoutMs = 0;
        await SendAsync(stream, impatient);
        var timedOut = await ReadReplyAsync(stream);
        Assert.Equal(8UL, timedOut.Id);
        Assert.True(timedOut.TimedOut);
    }

    [LinuxFact]
    public async Task A_frame_longer_than_the_limit_closes_that_connection_and_the_link_serves_the_next()
    {
        StartNode();
        using (var socket = RawConnect())
        using (var stream = new NetworkStream(socket))
        {
            var header = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(header, LinkName.MaxRequestBytes + 1);
            await stream.WriteAsync(header);
            var buffer = new byte[16];
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            Assert.Equal(0, await stream.ReadAsync(buffer, limit.Token)); // closed, nothing said: the bytes that follow cannot be skipped
        }
        await using var link = await ConnectAsync();
        var client = new StoreClient(link, Settings, () => throw new InvalidOperationException("no transfer here"));
        Assert.Empty((await Within(client.ListBucketsAsync())).Buckets);
    }

    [LinuxFact]
    public async Task A_request_to_an_actor_that_never_answers_times_out_with_the_requests_own_message()
    {
        StartNode();
        var silent = Sys.ActorOf(Props.Empty, "silent");
        await using var link = await ConnectAsync();
        var target = new LinkedActorRef(link, Akka.Serialization.Serialization.SerializedActorPath(silent), silent.Path);
        var started = DateTime.UtcNow;

        await Assert.ThrowsAsync<AskTimeoutException>(() => Within(link.AskAsync(target.Target, new FilesHandedOver(), TimeSpan.FromMilliseconds(500))));

        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
    }

    [LinuxFact]
    public async Task A_request_waiting_when_the_node_stops_fails_at_once_with_the_node_went_away()
    {
        Settings = Settings with { RequestTimeout = TimeSpan.FromMinutes(5) };
        StartNode();
        Sys.ActorOf(Props.Empty, "silent");
        await using var link = await ConnectAsync();
        var client = new StoreClient(link, Settings, () => throw new InvalidOperationException("no transfer here"));
        var waiting = link.AskAsync($"{NodeAddress}/user/silent", new FilesHandedOver(), TimeSpan.FromMinutes(5));

        await Sys.Terminate();

        await Assert.ThrowsAsync<NodeLinkLostException>(() => Within(waiting));
        var error = await Assert.ThrowsAsync<StoreException>(() => Within(client.ListBucketsAsync()));
        Assert.Equal(StoreErrorCode.Unavailable, error.Code);
        Assert.Contains("went away", error.Message);
    }

    [LinuxFact]
    public async Task A_node_with_its_link_off_has_none_and_a_shell_is_told_there_is_none_rather_than_left_waiting()
    {
        Settings = Settings with { LocalLink = false };
        StartNode();
        Assert.Null(Node!.Link);
        Assert.Null(await NodeLink.TryConnectAsync(NodeAddress.Host!, NodeAddress.Port!.Value));
    }

    private Socket RawConnect()
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(Transfer.AbstractSocket.EndPoint(LinkName.Of(NodeAddress.Host!, NodeAddress.Port!.Value)));
        return socket;
    }

    private static W.LinkRequest Request(StoreSerializer serializer, ulong id, object message, string target = "") =>
        new() { Id = id, Target = target, Manifest = serializer.Manifest(message), Payload = ByteString.CopyFrom(serializer.ToBinary(message)), TimeoutMs = 5000 };

    private static Task SendAsync(Stream stream, W.LinkRequest request) => CommandFraming.WriteAsync(stream, request, CancellationToken.None);

    private static async Task WriteFrameAsync(Stream stream, byte[] body)
    {
        var frame = new byte[4 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, body.Length);
        body.CopyTo(frame, 4);
        await stream.WriteAsync(frame);
    }

    private static async Task<W.LinkReply> ReadReplyAsync(Stream stream)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var frame = await CommandFraming.ReadAsync(stream, LinkName.MaxReplyBytes, limit.Token) ?? throw new EndOfStreamException("the link closed the connection");
        return W.LinkReply.Parser.ParseFrom(frame);
    }
}
