using Akka.Actor;
using ObjectStore.Actors.Chunking;
using ObjectStore.Actors.Protocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Transfer.Upload;

/// <summary>
/// Bytes as <see cref="DataFrame"/>s over Akka.Remote (a client that cannot reach the data port): in
/// order, at most a frame each, never beyond the announced size. A frame is acknowledged once the chunker
/// has taken it, so the client's window is the back-pressure.
/// </summary>
internal sealed class FrameUploadSource(IUploadSourceOwner owner, IActorRef chunker, string name, long expectedSize, int frameSize) : IUploadSource
{
    private long _nextSequence, _received;
    private IActorRef _client = ActorRefs.Nobody;
    private bool _completed;

    public bool Handle(object message)
    {
        switch (message)
        {
            case DataFrame m:
                if (_completed)
                    owner.SourceFailed(StoreErrorCode.InvalidRequest, $"put of {name}: a frame after the upload was completed");
                else if (m.Sequence != _nextSequence)
                    owner.SourceFailed(StoreErrorCode.InvalidRequest, $"put of {name}: frame {m.Sequence} arrived where {_nextSequence} was due");
                else if (m.Data.Length > frameSize)
                    owner.SourceFailed(StoreErrorCode.InvalidRequest, $"put of {name}: frame of {m.Data.Length} bytes exceeds the frame size {frameSize}");
                else if (expectedSize >= 0 && _received + m.Data.Length > expectedSize)
                    owner.SourceFailed(StoreErrorCode.InvalidRequest, $"put of {name}: more bytes than the announced {expectedSize}");
                else
                {
                    _client = ActorCell.GetCurrentSenderOrNoSender() ?? ActorRefs.Nobody;
                    _nextSequence++;
                    _received += m.Data.Length;
                    chunker.Tell(new ChunkerActor.Bytes(m.Sequence, m.Data));
                }
                return true;
            case ChunkerActor.Accepted m:
                _client.Tell(new FrameAck(m.Sequence));
                return true;
            case UploadComplete m:
                if (_completed)
                    owner.SourceFailed(StoreErrorCode.InvalidRequest, $"put of {name}: the upload was completed twice");
                else if (m.TotalBytes != _received || m.Frames != _nextSequence)
                    owner.SourceFailed(StoreErrorCode.InvalidRequest,
                        $"put of {name}: client sent {m.TotalBytes} bytes in {m.Frames} frames, node received {_received} in {_nextSequence}");
                else
                {
                    _completed = true;
                    owner.SourceEnded(_received);
                }
                return true;
            default:
                return false;
        }
    }

    public void Dispose() { }
}
