using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Runtime.Serialization;
using Akka.Actor;
using Google.Protobuf;
using ObjectStore.Actors.Commands;
using ObjectStore.Actors.Coordination;
using ObjectStore.Actors.Link;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Serialization;
using W = ObjectStore.Actors.Protocol.Wire.Link;

namespace ObjectStore.Actors.Client;

/// <summary>
/// A shell script's connection to a node on its machine (<see cref="ClientLinkHost"/>): store requests and
/// their replies as StoreSerializer writes them, without an actor system. Requests may overlap; each waits
/// for its own reply, bounded by its timeout.
/// </summary>
public sealed class NodeLink : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly StoreSerializer _serializer;
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource<W.LinkReply>> _waiting = new();
    private readonly SemaphoreSlim _writing = new(1, 1);
    private readonly TaskCompletionSource _lost = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _lastId;

    private NodeLink(Socket socket, string host, int port)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _serializer = new StoreSerializer(null!) { ResolvePath = path => new LinkedActorRef(this, path, ActorPath.Parse(path)) };
        Host = host;
        Coordinator = new LinkedActorRef(this, "", ActorPath.Parse($"akka.tcp://{StoreClient.NodeSystemName}@{host}:{port}/user/{StoreCoordinator.Name}"));
        _ = ReadRepliesAsync();
    }

    /// <summary>The host name the node answered to (the one in its link's name).</summary>
    public string Host { get; }

    /// <summary>The node's coordinator, the target of every request that names no other.</summary>
    public IActorRef Coordinator { get; }

    /// <summary>Completes when the connection ends (the node stopped or closed it); never fails.</summary>
    public Task Lost => _lost.Task;

    /// <summary>
    /// Connects to the link of the node at <paramref name="host"/>:<paramref name="port"/> on this machine, under
    /// the name given or, failing that, another of its names (<see cref="NodeAddress"/>: the node's link is named
    /// after the host it advertises); null when there is none (another machine, a node of an earlier version, or
    /// one with its link off).
    /// </summary>
    /// <param name="names">The host's names (<see cref="NodeAddress.CandidatesAsync"/>), asked for only when the name
    /// given has no link: a caller that goes on to Akka.Remote passes the same lookup on rather than making it twice.</param>
    public static async Task<NodeLink?> TryConnectAsync(string host, int port, Func<Task<IReadOnlyList<string>>>? names = null)
    {
        if (!LinkName.Supported) return null;
        return await TryConnectAsync([host], port)
               ?? await TryConnectAsync((await (names ?? (() => NodeAddress.CandidatesAsync(host)))()).Where(c => c != host), port);
    }

    private static async Task<NodeLink?> TryConnectAsync(IEnumerable<string> hosts, int port)
    {
        foreach (var host in hosts)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(Transfer.AbstractSocket.EndPoint(LinkName.Of(host, port)));
                return new NodeLink(socket, host, port);
            }
            catch (SocketException)
            {
                socket.Dispose(); // nothing listens under this name
            }
        }
        return null;
    }

    /// <summary>Sends a request and waits for its reply.</summary>
    /// <exception cref="AskTimeoutException">No reply within <paramref name="timeout"/>.</exception>
    /// <exception cref="NodeLinkLostException">The connection ended first.</exception>
    /// <exception cref="StoreException">The node refused the request as malformed, or its reply is.</exception>
    internal async Task<object> AskAsync(string target, object request, TimeSpan timeout)
    {
        var id = (ulong)Interlocked.Increment(ref _lastId);
        var reply = new TaskCompletionSource<W.LinkReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting[id] = reply;
        W.LinkReply answer;
        try
        {
            if (_lost.Task.IsCompleted) throw new NodeLinkLostException();
            var wire = Request(target, request);
            wire.Id = id;
            wire.TimeoutMs = (uint)Math.Clamp(timeout.TotalMilliseconds, 1, uint.MaxValue);
            await SendAsync(wire);
            answer = await reply.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new AskTimeoutException($"no reply within {timeout}");
        }
        finally
        {
            _waiting.TryRemove(id, out _);
        }
        if (answer.TimedOut) throw new AskTimeoutException($"the node had no answer within {timeout}");
        if (answer.Error.Length > 0) throw new StoreException(StoreErrorCode.InvalidRequest, $"the node refused the request: {answer.Error}");
        try
        {
            return _serializer.FromBinary(answer.Payload.ToByteArray(), answer.Manifest);
        }
        catch (SerializationException e)
        {
            throw new StoreException(StoreErrorCode.InvalidRequest, $"the node's reply could not be read: {e.Message}");
        }
    }

    /// <summary>Sends a message that has no reply; lost with the connection, as a tell to a node that went away is.</summary>
    internal void Tell(string target, object message)
    {
        var wire = Request(target, message);
        wire.OneWay = true;
        _ = SendAsync(wire).ContinueWith(t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);
    }

    private W.LinkRequest Request(string target, object message) =>
        new() { Target = target, Manifest = _serializer.Manifest(message), Payload = ByteString.CopyFrom(_serializer.ToBinary(message)) };

    private async Task SendAsync(W.LinkRequest request)
    {
        await _writing.WaitAsync();
        try
        {
            await CommandFraming.WriteAsync(_stream, request, CancellationToken.None);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            throw new NodeLinkLostException();
        }
        finally
        {
            _writing.Release();
        }
    }

    private async Task ReadRepliesAsync()
    {
        try
        {
            while (await CommandFraming.ReadAsync(_stream, LinkName.MaxReplyBytes, CancellationToken.None) is { } frame)
            {
                var reply = W.LinkReply.Parser.ParseFrom(frame);
                if (_waiting.TryGetValue(reply.Id, out var waiting)) waiting.TrySetResult(reply);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidDataException or InvalidProtocolBufferException)
        {
            // The node closed the connection, or wrote something that is not a reply: either way the link is over.
        }
        finally
        {
            _lost.TrySetResult();
            foreach (var waiting in _waiting.Values) waiting.TrySetException(new NodeLinkLostException());
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already gone.
        }
        await _stream.DisposeAsync();
    }
}

/// <summary>The link to the node ended before a request's reply came.</summary>
public sealed class NodeLinkLostException() : IOException("the connection to the node ended");
