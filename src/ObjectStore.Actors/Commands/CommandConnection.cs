using System.Net.Sockets;
using Akka.Actor;
using Google.Protobuf;
using W = ObjectStore.Actors.Protocol.Wire.Cmd;

namespace ObjectStore.Actors.Commands;

/// <summary>
/// One `objectstore cmd` connection: reads a request, runs it on its palette and writes the reply (or the
/// stream of replies), then reads the next. A request that does not parse gets an error and the
/// connection goes on; one longer than <see cref="CommandFraming.MaxRequestBytes"/> gets an error and the
/// connection is closed (its bytes cannot be skipped safely). A streaming command runs until the client
/// closes the connection or sends anything.
/// </summary>
internal sealed class CommandConnection : ReceiveActor
{
    private sealed record Received(byte[]? Frame) : ILocalMessage;
    private sealed record ReadFailed(Exception Error) : ILocalMessage;
    private sealed record Finished(bool KeepOpen) : ILocalMessage;

    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly IReadOnlyList<ICommandPalette> _palettes;
    private readonly CommandContext _context;
    private readonly Action _closed;
    private readonly CancellationTokenSource _life = new();

    public CommandConnection(TcpClient client, IReadOnlyList<ICommandPalette> palettes, CommandContext context, Action closed)
    {
        (_client, _palettes, _context, _closed) = (client, palettes, context, closed);
        _stream = client.GetStream();
        Receive<Received>(m =>
        {
            if (m.Frame is null)
            {
                Context.Stop(Self); // the client closed the connection
                return;
            }
            Handle(m.Frame);
        });
        Receive<ReadFailed>(m =>
        {
            if (m.Error is InvalidDataException) RefuseAndCloseAsync(m.Error.Message).PipeTo(Self, success: () => new Finished(false), failure: _ => new Finished(false));
            else Context.Stop(Self);
        });
        Receive<Finished>(m =>
        {
            if (m.KeepOpen) ReadNext();
            else Context.Stop(Self);
        });
    }

    public static Props Props(TcpClient client, IReadOnlyList<ICommandPalette> palettes, CommandContext context, Action closed) =>
        ActorProps.Of(() => new CommandConnection(client, palettes, context, closed));

    protected override void PreStart() => ReadNext();

    protected override void PostStop()
    {
        _life.Cancel();
        _client.Dispose();
        _closed();
    }

    /// <summary>Tells a client the host is full, then closes its connection.</summary>
    public static async Task RefuseAsync(TcpClient client, CommandContext context, string message)
    {
        using (client)
        {
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try { await CommandFraming.WriteAsync(client.GetStream(), new W.CmdReply { Node = context.NodeName, Error = message }, limit.Token); }
            catch (Exception e) when (e is IOException or OperationCanceledException or SocketException) { }
        }
    }

    /// <summary>
    /// Says why, then closes gently: the request's unread bytes are drained (a little, briefly) so that the
    /// close is not a reset, which would throw the error away before the client reads it.
    /// </summary>
    private async Task RefuseAndCloseAsync(string message)
    {
        await Reply(Error(message));
        _client.Client.Shutdown(SocketShutdown.Send);
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        var buffer = new byte[8192];
        try
        {
            for (var drained = 0; drained < CommandFraming.MaxRequestBytes;)
            {
                var read = await _stream.ReadAsync(buffer, limit.Token);
                if (read == 0) break;
                drained += read;
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException) { }
    }

    private void ReadNext() =>
        CommandFraming.ReadAsync(_stream, CommandFraming.MaxRequestBytes, _life.Token)
            .PipeTo(Self, success: frame => new Received(frame), failure: e => new ReadFailed(e is AggregateException a ? a.GetBaseException() : e));

    private void Handle(byte[] frame)
    {
        W.CmdRequest request;
        try
        {
            request = W.CmdRequest.Parser.ParseFrom(frame);
        }
        catch (InvalidProtocolBufferException e)
        {
            KeepServing(Reply(Error($"malformed request: {e.Message}")));
            return;
        }
        if (request.Palette.Length == 0 && request.Command.Length == 0)
        {
            KeepServing(Reply(Describe()));
            return;
        }
        var palette = _palettes.FirstOrDefault(p => p.Spec.Name == request.Palette);
        if (palette is null)
        {
            KeepServing(Reply(Error($"unknown palette '{request.Palette}'; the palettes: {string.Join(", ", _palettes.Select(p => p.Spec.Name))}")));
            return;
        }
        var command = palette.Spec.Commands.FirstOrDefault(c => c.Name == request.Command);
        if (command is null)
        {
            KeepServing(Reply(Error($"unknown command '{request.Palette} {request.Command}'; '{request.Palette}' has: {string.Join(", ", palette.Spec.Commands.Select(c => c.Name))}")));
            return;
        }
        CommandArgs args;
        try
        {
            args = CommandArgs.Parse(request.Args, command, palette.ValuedSwitches);
        }
        catch (FormatException e)
        {
            KeepServing(Reply(Error(e.Message)));
            return;
        }
        var run = CancellationTokenSource.CreateLinkedTokenSource(_life.Token);
        if (command.Streaming)
        {
            // Anything from the client (its end of the connection included) ends the stream.
            _ = CommandFraming.ReadAsync(_stream, CommandFraming.MaxRequestBytes, run.Token).ContinueWith(_ => run.Cancel(), TaskScheduler.Default);
        }
        RunAsync(palette, command, args, run.Token).PipeTo(Self,
            success: () => new Finished(!command.Streaming), failure: _ => new Finished(false));
    }

    private async Task RunAsync(ICommandPalette palette, CommandSpec command, CommandArgs args, CancellationToken cancel)
    {
        try
        {
            await foreach (var output in palette.RunAsync(command.Name, args, _context, cancel).WithCancellation(cancel))
                await Reply(ToWire(output, more: true), cancel);
            await Reply(new W.CmdReply { Node = _context.NodeName, Text = "", More = false }, cancel);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            // The client left a stream; nothing to say to it.
        }
        catch (Exception e) when (e is not (IOException or SocketException))
        {
            await Reply(Error($"{palette.Spec.Name} {command.Name} failed: {e.GetBaseException().Message}"), cancel);
        }
    }

    private void KeepServing(Task reply) => reply.PipeTo(Self, success: () => new Finished(true), failure: _ => new Finished(false));

    private Task Reply(W.CmdReply reply, CancellationToken cancel = default) =>
        CommandFraming.WriteAsync(_stream, reply, cancel == default ? _life.Token : cancel);

    private W.CmdReply Error(string message) => new() { Node = _context.NodeName, Error = message };

    private W.CmdReply ToWire(CommandOutput output, bool more)
    {
        var reply = new W.CmdReply { Node = _context.NodeName, More = more };
        if (output.Error is not null) reply.Error = output.Error;
        else if (output.Table is { } table)
        {
            var wire = new W.CmdTable();
            wire.Columns.AddRange(table.Columns);
            foreach (var row in table.Rows)
            {
                var r = new W.CmdRow();
                r.Cells.AddRange(row);
                wire.Rows.Add(r);
            }
            reply.Table = wire;
        }
        else reply.Text = output.Text ?? "";
        return reply;
    }

    private W.CmdReply Describe()
    {
        var palettes = new W.CmdPalettes();
        foreach (var palette in _palettes)
        {
            var p = new W.CmdPalette { Name = palette.Spec.Name, Description = palette.Spec.Description };
            foreach (var c in palette.Spec.Commands)
            {
                var wc = new W.CmdCommand { Name = c.Name, Usage = c.Usage, Description = c.Description, Streaming = c.Streaming };
                wc.Switches.AddRange(c.Switches);
                p.Commands.Add(wc);
            }
            palettes.Palettes.Add(p);
        }
        return new W.CmdReply { Node = _context.NodeName, Palettes = palettes };
    }
}
