using System.Net.Sockets;
using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Event;
using Google.Protobuf;
using ObjectStore.Actors.Commands;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Serialization;
using W = ObjectStore.Actors.Protocol.Wire.Link;

namespace ObjectStore.Actors.Link;

/// <summary>
/// One shell's connection to the node's local link: every request is a store message for the coordinator
/// (or for an actor the node named in an earlier reply, a batch waiting for its files), asked on the
/// client's behalf and answered by id; up to <see cref="MaxInFlight"/> at once. A request that does not parse,
/// or names an actor that is not this node's, gets an error and the connection goes on; a frame longer than
/// the limit, or cut off, closes the connection (its bytes cannot be skipped safely).
/// </summary>
internal sealed class ClientLinkConnection(Socket socket, ExtendedActorSystem system, IActorRef coordinator, StoreSerializer serializer,
    ILoggingAdapter log, CancellationToken nodeStopping)
{
    /// <summary>Requests answered at once per connection; the next is not read before one is answered.</summary>
    public const int MaxInFlight = 64;

    /// <summary>The longest the node waits for an answer however long the client says it waits.</summary>
    private static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(30);

    private readonly NetworkStream _stream = new(socket, ownsSocket: true);
    private readonly SemaphoreSlim _writing = new(1, 1);
    private readonly SemaphoreSlim _inFlight = new(MaxInFlight, MaxInFlight);

    public async Task ServeAsync()
    {
        using var life = CancellationTokenSource.CreateLinkedTokenSource(nodeStopping);
        try
        {
            while (true)
            {
                await _inFlight.WaitAsync(life.Token);
                var frame = await CommandFraming.ReadAsync(_stream, LinkName.MaxRequestBytes, life.Token);
                if (frame is null) return; // the shell closed its end
                _ = AnswerAsync(frame, life.Token);
            }
        }
        catch (InvalidDataException e)
        {
            log.Warning("client link: {0}; connection closed", e.Message);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The shell went away, or the node is stopping.
        }
        finally
        {
            life.Cancel();
            await _stream.DisposeAsync();
        }
    }

    private async Task AnswerAsync(byte[] frame, CancellationToken cancel)
    {
        try
        {
            W.LinkRequest request;
            try
            {
                request = W.LinkRequest.Parser.ParseFrom(frame);
            }
            catch (InvalidProtocolBufferException e)
            {
                await WriteAsync(new W.LinkReply { Error = $"malformed link request: {e.Message}" }, cancel);
                return;
            }
            if (await ReplyToAsync(request) is { } reply) await WriteAsync(reply, cancel);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The connection is gone; its shell no longer waits for this answer.
        }
        finally
        {
            _inFlight.Release();
        }
    }

    /// <summary>The reply to send; null for a one-way request.</summary>
    private async Task<W.LinkReply?> ReplyToAsync(W.LinkRequest request)
    {
        object message;
        try
        {
            message = serializer.FromBinary(request.Payload.ToByteArray(), request.Manifest);
        }
        catch (SerializationException e)
        {
            return Refused(request, e.Message);
        }
        if (Target(request.Target) is not { } target)
            return Refused(request, $"no actor '{request.Target}' on this node takes link requests");
        if (request.OneWay)
        {
            target.Tell(message, ActorRefs.NoSender);
            return null;
        }
        // At least a millisecond: Akka takes a zero timeout for its default, which waits forever.
        var wait = TimeSpan.FromMilliseconds(Math.Max(1, request.TimeoutMs));
        object answer;
        try
        {
            answer = await target.Ask<object>(message, wait < MaxWait ? wait : MaxWait);
        }
        catch (AskTimeoutException)
        {
            return new W.LinkReply { Id = request.Id, TimedOut = true };
        }
        if (answer is not IStoreMessage)
        {
            log.Warning("client link: {0} answered {1}, which is not a store message; the shell is told", target.Path, answer.GetType().Name);
            return Refused(request, $"the node answered {answer.GetType().Name}, which the link does not carry");
        }
        return new W.LinkReply { Id = request.Id, Manifest = serializer.Manifest(answer), Payload = ByteString.CopyFrom(serializer.ToBinary(answer)) };
    }

    /// <summary>The coordinator for an empty target; else a live or dead actor of this node under /user (never another node's).</summary>
    private IActorRef? Target(string path)
    {
        if (path.Length == 0) return coordinator;
        if (!ActorPath.TryParse(path, out var parsed) || parsed.Elements.Count == 0 || parsed.Elements[0] != "user") return null;
        if (parsed.Address != system.Provider.DefaultAddress && parsed.Address.HasGlobalScope) return null;
        var actor = system.Provider.ResolveActorRef(path);
        return actor is IInternalActorRef { IsLocal: true } && !actor.IsNobody() ? actor : null;
    }

    private static W.LinkReply Refused(W.LinkRequest request, string why) => new() { Id = request.Id, Error = why };

    private async Task WriteAsync(W.LinkReply reply, CancellationToken cancel)
    {
        await _writing.WaitAsync(cancel);
        try
        {
            await CommandFraming.WriteAsync(_stream, reply, cancel);
        }
        finally
        {
            _writing.Release();
        }
    }
}
