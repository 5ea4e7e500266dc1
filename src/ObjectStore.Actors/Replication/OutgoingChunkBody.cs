using System.Net.Sockets;
using Akka.Actor;
using ObjectStore.Actors.Transfer;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;

namespace ObjectStore.Actors.Replication;

/// <summary>
/// A chunk body this node sends whole on a data connection to the route another node handed out (a push's
/// receiver, a fetching node), in the background: the actor that sends it is told <see cref="Sent"/> or
/// <see cref="Failed"/>, and says with <see cref="Finish"/> whether the other end has the body whole, so
/// the connection may carry the next body to that node, or not, so it is closed.
/// </summary>
internal sealed class OutgoingChunkBody
{
    public sealed record Sent : ILocalMessage
    {
        public static readonly Sent Instance = new();
    }

    /// <param name="Unreachable">The data port could not be reached at all: the sender may send parts over Akka.Remote instead.</param>
    public sealed record Failed(string Reason, bool Unreachable) : ILocalMessage;

    private readonly DataLinks _links;
    private readonly DataRoute _route;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task<TcpClient> _send;
    private bool _finished;

    /// <param name="bytesOwner">Disposed once the bytes are no longer read (the send has ended either way): a reference of the caller's to pooled memory.</param>
    public OutgoingChunkBody(ActorSystem system, DataRoute route, ReadOnlyMemory<byte> body, IDisposable? bytesOwner, IActorRef owner)
    {
        _links = DataLinks.Of(system);
        _route = route;
        _send = ChunkBody.SendAsync(_links, route, body, _stop.Token);
        _send.ContinueWith(t =>
        {
            bytesOwner?.Dispose();
            owner.Tell(t.IsCompletedSuccessfully ? Sent.Instance
                : t.Exception?.GetBaseException() is { } e ? new Failed(e.Message, e is DataLinkUnreachableException)
                : new Failed("cancelled", false));
        }, TaskScheduler.Default);
    }

    /// <summary>
    /// The transfer is over. <paramref name="whole"/>: the other end has the whole body, and the connection
    /// goes back to the pool; otherwise a send still running is cancelled and the connection closed.
    /// </summary>
    public void Finish(bool whole)
    {
        if (_finished) return;
        _finished = true;
        if (!whole) _stop.Cancel();
        _send.ContinueWith(t =>
        {
            if (!t.IsCompletedSuccessfully) return;
            if (whole) _links.Peers.Return(_route.Host, _route.Port, t.Result);
            else t.Result.Dispose();
        }, TaskScheduler.Default);
    }
}
