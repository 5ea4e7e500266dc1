using System.Buffers;
using System.Net.Sockets;
using Akka.Actor;
using ObjectStore.Actors.Chunking;
using ObjectStore.Actors.Protocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Transfer.Upload;

/// <summary>
/// Bytes on the node's data port: read 1 MiB at a time into pooled buffers, never more than 8 reads ahead
/// of what the chunker has taken, so when the chunker is full the reads stop and TCP's flow control stops
/// the client. A buffer goes back to its pool once the chunker has copied it.
/// </summary>
internal sealed class SocketUploadSource : IUploadSource
{
    private const int ReadSize = 1024 * 1024;
    private const int ReadsAhead = 8;

    private sealed record DataRead(byte[] Buffer, int Count, string? Error) : ILocalMessage;

    private readonly IUploadSourceOwner _owner;
    private readonly IActorRef _chunker;
    private readonly IActorRef _self;
    private readonly string _name;
    private readonly long _expectedSize;
    private readonly TcpClient _connection;
    private readonly Dictionary<long, byte[]> _unaccepted = new();
    private long _nextSequence, _received;
    private bool _reading, _ended;
    private UploadComplete? _announced;

    public SocketUploadSource(IUploadSourceOwner owner, IActorRef chunker, IActorRef self, string name, long expectedSize, TcpClient connection)
    {
        (_owner, _chunker, _self, _name, _expectedSize, _connection) = (owner, chunker, self, name, expectedSize, connection);
        ReadMore();
    }

    public bool Handle(object message)
    {
        switch (message)
        {
            case DataRead m:
                HandleRead(m);
                return true;
            case ChunkerActor.Accepted m:
                if (_unaccepted.Remove(m.Sequence, out var buffer)) ArrayPool<byte>.Shared.Return(buffer);
                ReadMore();
                return true;
            case UploadComplete { Frames: UploadComplete.ViaDataPort } m:
                // The client may announce its total before its last bytes have been read here.
                _announced = m;
                EndIfComplete();
                return true;
            default:
                return false;
        }
    }

    private void ReadMore()
    {
        if (_reading || _ended || _unaccepted.Count >= ReadsAhead) return;
        _reading = true;
        var buffer = ArrayPool<byte>.Shared.Rent(ReadSize);
        _connection.GetStream().ReadAsync(buffer).AsTask().PipeTo(_self,
            success: count => new DataRead(buffer, count, null),
            failure: e => new DataRead(buffer, 0, e.GetBaseException().Message));
    }

    private void HandleRead(DataRead m)
    {
        _reading = false;
        if (m.Error is not null)
        {
            _owner.SourceFailed(StoreErrorCode.Unavailable, $"put of {_name}: the data connection failed: {m.Error}; nothing was stored");
            return;
        }
        if (m.Count == 0)
        {
            ArrayPool<byte>.Shared.Return(m.Buffer);
            _ended = true;
            EndIfComplete();
            return;
        }
        _received += m.Count;
        if (_expectedSize >= 0 && _received > _expectedSize)
        {
            _owner.SourceFailed(StoreErrorCode.InvalidRequest, $"put of {_name}: more bytes than the announced {_expectedSize}");
            return;
        }
        _unaccepted[_nextSequence] = m.Buffer;
        _chunker.Tell(new ChunkerActor.Bytes(_nextSequence++, m.Buffer.AsMemory(0, m.Count)), _self);
        ReadMore();
    }

    private void EndIfComplete()
    {
        if (!_ended || _announced is null) return;
        if (_announced.TotalBytes != _received)
            _owner.SourceFailed(StoreErrorCode.InvalidRequest,
                $"put of {_name}: client sent {_announced.TotalBytes} bytes, node received {_received} on the data connection");
        else
            _owner.SourceEnded(_received);
        _announced = null;
    }

    /// <summary>Buffers still held by the chunker are left to the garbage collector: it may still be copying one.</summary>
    public void Dispose() => _connection.Dispose();
}
