using System.Net.Sockets;
using System.Runtime.CompilerServices;
using W = ObjectStore.Actors.Protocol.Wire.Cmd;

namespace ObjectStore.Actors.Commands;

/// <summary>`objectstore cmd`'s side of a connection to a node's command host: one request at a time.</summary>
public sealed class CommandClient : IDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly TimeSpan _replyTimeout;

    private CommandClient(TcpClient client, TimeSpan replyTimeout) => (_client, _stream, _replyTimeout) = (client, client.GetStream(), replyTimeout);

    /// <exception cref="IOException">Nothing answers at host:port within five seconds.</exception>
    public static async Task<CommandClient> ConnectAsync(string host, int port, TimeSpan replyTimeout)
    {
        var client = new TcpClient { NoDelay = true };
        try
        {
            await Transfer.TcpConnect.ConnectAsync(client, host, port);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            client.Dispose();
            throw new IOException($"no command host answers at {host}:{port} ({(e is OperationCanceledException ? "no answer in 5s" : e.Message)}); " +
                                  "is the node running with objectstore.cmd.port (--cmd-port) set?");
        }
        return new CommandClient(client, replyTimeout);
    }

    /// <summary>The host's palettes (what `help` and tab completion show).</summary>
    public async Task<(string Node, IReadOnlyList<PaletteSpec> Palettes)> DescribeAsync(CancellationToken cancel = default)
    {
        await foreach (var reply in RunAsync("", "", [], cancel))
        {
            if (reply.Error is not null) throw new IOException(reply.Error);
            return (reply.Node, reply.Palettes ?? []);
        }
        throw new IOException("the command host closed the connection without describing its palettes");
    }

    /// <summary>
    /// Sends one command and yields its replies until the last (More = false), or the first error. A
    /// reply must come within the reply timeout, except between the replies of a streaming command.
    /// </summary>
    public async IAsyncEnumerable<CommandReply> RunAsync(string palette, string command, IReadOnlyList<string> args,
        [EnumeratorCancellation] CancellationToken cancel = default)
    {
        var request = new W.CmdRequest { Palette = palette, Command = command };
        request.Args.AddRange(args);
        await CommandFraming.WriteAsync(_stream, request, cancel);
        var first = true;
        while (true)
        {
            byte[]? frame;
            using (var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel))
            {
                // The first reply is bounded; a stream's next line may be a long time coming (cluster tail).
                if (first) limit.CancelAfter(_replyTimeout);
                try
                {
                    frame = await CommandFraming.ReadAsync(_stream, CommandFraming.MaxReplyBytes, limit.Token);
                }
                catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
                {
                    throw new IOException($"the node did not answer within {_replyTimeout.TotalSeconds:0}s");
                }
            }
            first = false;
            if (frame is null) throw new IOException("the node closed the connection");
            var reply = FromWire(W.CmdReply.Parser.ParseFrom(frame));
            if (reply.Error is not null || reply.Palettes is not null)
            {
                yield return reply;
                yield break;
            }
            if (reply.More || reply.Table is not null || reply.Text is { Length: > 0 }) yield return reply;
            if (!reply.More) yield break;
        }
    }

    private static CommandReply FromWire(W.CmdReply r) => new(
        r.Node,
        r.BodyCase == W.CmdReply.BodyOneofCase.Table ? new CommandTable(r.Table.Columns.ToList(), r.Table.Rows.Select(x => (IReadOnlyList<string>)x.Cells.ToList()).ToList()) : null,
        r.BodyCase == W.CmdReply.BodyOneofCase.Text ? r.Text : null,
        r.BodyCase == W.CmdReply.BodyOneofCase.Error ? r.Error : null,
        r.BodyCase == W.CmdReply.BodyOneofCase.Palettes
            ? r.Palettes.Palettes.Select(p => new PaletteSpec(p.Name, p.Description,
                p.Commands.Select(c => new CommandSpec(c.Name, c.Usage, c.Description, c.Switches.ToList(), c.Streaming)).ToList())).ToList()
            : null,
        r.More);

    public void Dispose() => _client.Dispose();
}
