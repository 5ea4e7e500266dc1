using System.Net.Sockets;
using Akka.Actor;
using ObjectStore.Actors.Protocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Transfer.Download;

/// <summary>
/// The object on the client's data connection: one chunk written at a time (TCP's flow control paces it),
/// then the sending side is closed and DownloadComplete sent.
/// </summary>
internal sealed class SocketDownloadSink(IDownloadSinkOwner owner, IActorRef client, IActorRef self, long size, TcpClient connection) : IDownloadSink
{
    private sealed record Written : ILocalMessage;
    private sealed record WriteFailed(string Reason) : ILocalMessage;

    private readonly Queue<ReadOnlyMemory<byte>> _queue = new();
    private bool _writing, _ended, _done;

    public void Add(Storage.ChunkStorageProtocol.ChunkRead chunk)
    {
        _queue.Enqueue(chunk.Detach());
        WriteNext();
    }

    public void End()
    {
        _ended = true;
        WriteNext();
    }

    public int Pending => _queue.Count + (_writing ? 1 : 0);

    public string Stalled => "the client stopped reading the data connection";

    public bool Handle(object message)
    {
        switch (message)
        {
            case Written:
                _writing = false;
                owner.SinkMoved();
                WriteNext();
                return true;
            case WriteFailed m:
                // The client went away or its connection broke; if it is still there it hears why over Akka.Remote.
                owner.SinkFailed(StoreErrorCode.Unavailable, $"the data connection failed ({m.Reason})");
                return true;
            default:
                return false;
        }
    }

    private void WriteNext()
    {
        if (_writing || _done) return;
        if (_queue.TryDequeue(out var data))
        {
            _writing = true;
            connection.GetStream().WriteAsync(data).AsTask().PipeTo(self, success: () => new Written(), failure: e => new WriteFailed(e.GetBaseException().Message));
            return;
        }
        if (!_ended) return;
        _done = true;
        try
        {
            connection.Client.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            owner.SinkFailed(StoreErrorCode.Unavailable, $"the data connection failed ({e.Message})");
            return;
        }
        client.Tell(new DownloadComplete(size));
        owner.SinkDone();
    }

    public void Dispose() => connection.Dispose();
}
