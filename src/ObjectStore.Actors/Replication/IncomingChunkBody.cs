using System.Net.Sockets;
using Akka.Actor;
using ObjectStore.Actors.Transfer;
using ObjectStore.Core.Chunking;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;

namespace ObjectStore.Actors.Replication;

/// <summary>
/// A chunk body this node expects on its data plane, for the actor that receives it (the receiver of a
/// push, a fetch): a route with a fresh single-use token for the sending node, then, when the connection
/// presents it, the body read off it whole. The actor is told <see cref="Arrived"/> with the bytes (its to
/// verify and dispose) or <see cref="Broke"/>; nothing partial ever reaches it. A connection whose body
/// came whole goes back to the plane for the sending node's next body.
/// </summary>
internal sealed class IncomingChunkBody : IDisposable
{
    public sealed record Arrived(ChunkBuffer Body) : ILocalMessage;
    /// <param name="WrongLength">The sender announced another length than the chunk's (its copy may be truncated or longer).</param>
    public sealed record Broke(string Reason, bool WrongLength = false) : ILocalMessage;

    private readonly DataPlane _plane;
    private readonly byte[] _token;
    private readonly CancellationTokenSource _stop = new();

    private IncomingChunkBody(DataPlane plane, IActorRef owner)
    {
        _plane = plane;
        _token = plane.Expect(owner);
    }

    /// <summary>Null when this node takes chunk bodies only as parts (no data plane, or data connections off).</summary>
    public static IncomingChunkBody? Expect(ActorSystem system, IActorRef owner) =>
        DataLinks.Of(system).Plane is { } plane ? new IncomingChunkBody(plane, owner) : null;

    public DataRoute Route => new(_plane.Host, _plane.Port, _token);

    /// <summary>Reads the body of <paramref name="length"/> bytes off the connection the plane passed on, in the background.</summary>
    public void Read(TcpClient connection, int length, TimeSpan timeout, IActorRef owner) => _ = ReadAsync(connection, length, timeout, owner);

    private async Task ReadAsync(TcpClient connection, int length, TimeSpan timeout, IActorRef owner)
    {
        ChunkBuffer body;
        try
        {
            body = await ChunkBody.ReceiveAsync(connection.GetStream(), length, timeout, _stop.Token);
        }
        catch (Exception e) when (e is IOException or SocketException or InvalidDataException or OperationCanceledException or ObjectDisposedException)
        {
            connection.Dispose();
            owner.Tell(new Broke(e is OperationCanceledException
                ? $"the body did not arrive within {timeout.TotalSeconds:0.#}s"
                : $"the data connection broke: {e.Message}", WrongLength: e is InvalidDataException));
            return;
        }
        _plane.Reuse(connection);
        if (_stop.IsCancellationRequested) body.Dispose(); // the actor is gone; nobody would return the buffer
        else owner.Tell(new Arrived(body));
    }

    /// <summary>The actor is done: an unused token is withdrawn, a read still running is abandoned.</summary>
    public void Dispose()
    {
        _plane.Forget(_token);
        _stop.Cancel();
    }
}
