using Akka.Actor;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Transfer.Download;

/// <summary>
/// The object as <see cref="DataFrame"/>s over Akka.Remote (a small object, or a client that cannot reach
/// the data port), through a <see cref="WindowedSender"/> with the client's window; then DownloadComplete.
/// </summary>
internal sealed class FrameDownloadSink : IDownloadSink
{
    private readonly IDownloadSinkOwner _owner;
    private readonly IActorRef _client;
    private readonly long _size;
    private readonly ArrayQueueSource _source = new();
    private readonly WindowedSender _sender;
    private bool _completeSent;

    public FrameDownloadSink(IDownloadSinkOwner owner, IActorRef client, IActorRef self, long size, int frameSize, int window, TimeSpan timeout)
    {
        (_owner, _client, _size) = (owner, client, size);
        _sender = new WindowedSender(_source, frameSize, window, (sequence, _, data) => client.Tell(new DataFrame(sequence, data), self), timeout);
    }

    public void Add(Storage.ChunkStorageProtocol.ChunkRead chunk)
    {
        // Frames may still be queued for the network after they are acknowledged: no pooled memory here.
        _source.Add(chunk.Detach());
        Pump();
    }

    public void End()
    {
        _source.End();
        Pump();
    }

    public int Pending => _source.Queued;

    public string Stalled => _sender.Expired ? "the client stopped acknowledging frames" : "no progress";

    public bool Handle(object message)
    {
        if (message is not FrameAck ack) return false;
        var before = _source.Queued;
        _sender.AcknowledgeParts(ack.Sequence);
        Pump();
        if (_source.Queued < before) _owner.SinkMoved();
        return true;
    }

    private void Pump()
    {
        _sender.Pump();
        if (_source.Exhausted && !_completeSent)
        {
            _completeSent = true;
            _client.Tell(new DownloadComplete(_size));
        }
        if (_completeSent && _sender.Complete) _owner.SinkDone();
    }

    public void Dispose() => _sender.Close();
}
