using System.Buffers;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using ObjectStore.Actors.Chunking;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Replication;
using ObjectStore.Core.Chunking;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.StorageProtocol;

namespace ObjectStore.Actors.Transfer;

/// <summary>
/// The node's side of one put. The bytes arrive on the node's data port (read here, a window of reads
/// ahead of the chunker at most, so TCP's flow control is the back-pressure), as frames (acknowledged
/// once the chunker has taken them, so the client's window is the back-pressure), or, from a client on
/// this machine, as the open file itself, which the chunker reads straight into its chunk buffers. They
/// go in order to a <see cref="ChunkerActor"/>, and the object is committed only after every chunk is
/// durable. The object is invisible until that commit; any failure before it leaves the store as it was.
/// </summary>
public sealed class UploadSessionActor : WireActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly StoreSettings _settings;
    private readonly IActorRef _storage;
    private readonly IActorRef _replicator;
    private readonly string _nodeId;
    private readonly IActorRef _client;
    private readonly PutObject _request;
    private readonly string _uploadId = ObjectManifest.NewVersionId();
    private readonly DataPlane? _dataPlane;
    private byte[] _dataToken = [];
    private IActorRef _chunker = ActorRefs.Nobody;
    private IActorRef _distributor = ActorRefs.Nobody;

    // Data-port mode: the connection, reads handed to the chunker and not yet copied by it (their
    // pooled buffers come back when it has), and whether the client has closed its side.
    private const int DataReadSize = 1024 * 1024;
    private const int DataReadsAhead = 8;
    private TcpClient? _connection;
    private Microsoft.Win32.SafeHandles.SafeFileHandle? _handedOver;
    private long _progressReported;
    private const long ProgressEvery = 16 * 1024 * 1024;
    private bool _readPending, _dataEnded;
    private readonly Dictionary<long, byte[]> _readsUnaccepted = new();
    private UploadComplete? _completeAnnounced;
    private bool _completeReceived;
    private long _nextSequence;
    private long _bytesReceived;
    private long _newChunkBytes;
    private bool _finished;

    /// <summary>The whole object, when it came inside the request (a small put): no transfer, no UploadReady.</summary>
    private readonly ReadOnlyMemory<byte>? _inline;

    public UploadSessionActor(StoreSettings settings, IActorRef storage, IActorRef replicator, string nodeId, IActorRef client, PutObject request,
        DataPlane? dataPlane, ReadOnlyMemory<byte>? inline = null)
    {
        _inline = inline;
        _settings = settings;
        _storage = storage;
        _replicator = replicator;
        _nodeId = nodeId;
        _client = client;
        _request = request;
        _dataPlane = dataPlane;
        Receiving();
    }

    public static Props Props(StoreSettings settings, IActorRef storage, IActorRef replicator, string nodeId, IActorRef client, PutObject request,
        DataPlane? dataPlane = null, ReadOnlyMemory<byte>? inline = null) =>
        Akka.Actor.Props.Create(() => new UploadSessionActor(settings, storage, replicator, nodeId, client, request, dataPlane, inline));

    private sealed record DataRead(byte[] Buffer, int Count, string? Error) : ILocalMessage;

    private string Name => $"{_request.Bucket}/{_request.Key}";

    protected override void PreStart()
    {
        // The placement is fixed for the whole put: every chunk and the manifest see the same owners.
        var ring = ClusterRing.Current(Context.System, _nodeId);
        _distributor = Context.ActorOf(ChunkDistributor.Props(_settings, _storage, _replicator, ring, _uploadId), "distributor");
        Context.SetReceiveTimeout(_settings.IdleTimeout);
        if (_inline is { } data && data.Length <= _settings.Chunking.SingleChunkLimit)
        {
            StoreSingleChunk(data);
            return;
        }
        _chunker = Context.ActorOf(ChunkerActor.Props(_settings.Chunking.CreateChunker(), _distributor, _uploadId, _settings.ChunksInFlight, _settings.ChunksAwaitingCommit, _settings.Chunking.ShaNi), "chunker");
        if (_inline is { } bytes)
        {
            // It may make more than one chunk: through the chunker, all at once.
            _completeReceived = true;
            _bytesReceived = bytes.Length;
            _chunker.Tell(new ChunkerActor.Bytes(0, bytes));
            _chunker.Tell(ChunkerActor.EndOfData.Instance);
            return;
        }
        Context.Watch(_client);
        if (_dataPlane is not null) _dataToken = _dataPlane.Expect(Self);
        _client.Tell(new UploadReady(Self, _settings.Window, _settings.FrameSize,
            _dataPlane?.Host ?? "", _dataPlane?.Port ?? 0, _dataToken, _request.ExpectedSize >= 0 ? _dataPlane?.HandOverName ?? "" : ""));
    }

    protected override void PostStop()
    {
        _dataPlane?.Forget(_dataToken);
        _connection?.Dispose();
        // A read may still be running on the handle; the runtime's reference counting keeps it open until that read returns.
        _handedOver?.Dispose();
        _storage.Tell(new ReleaseUpload(_uploadId));
        if (!_finished) _log.Info("put of {0} abandoned after {1} bytes", Name, _bytesReceived);
    }

    private void Receiving()
    {
        Receive<DataConnectionOpened>(m =>
        {
            if (_connection is not null || _handedOver is not null || _nextSequence > 0)
            {
                m.Client.Dispose();
                Fail(StoreErrorCode.InvalidRequest, $"put of {Name}: a second data connection or a mix of frames and data connection");
                return;
            }
            _connection = m.Client;
            ReadMore();
        });
        Receive<LocalFileOpened>(m =>
        {
            if (_connection is not null || _handedOver is not null || _nextSequence > 0 || _request.ExpectedSize < 0)
            {
                m.File.Dispose();
                Fail(StoreErrorCode.InvalidRequest, $"put of {Name}: a handed-over file after bytes came another way, or without an announced size");
                return;
            }
            _handedOver = m.File;
            _log.Debug("put of {0}: reading the handed-over file", Name);
            // The chunker reads it straight into its chunk buffers, up to the announced size.
            _chunker.Tell(new ChunkerActor.ReadFile(m.File, _request.ExpectedSize));
        });
        Receive<ChunkerActor.FileProgress>(m =>
        {
            _bytesReceived = m.Bytes;
            if (_bytesReceived - _progressReported < ProgressEvery && _bytesReceived != _request.ExpectedSize) return;
            _progressReported = _bytesReceived;
            _client.Tell(new UploadProgress(_bytesReceived));
        });
        Receive<ChunkerActor.FileEnded>(m =>
        {
            if (m.Error is not null)
            {
                Fail(StoreErrorCode.Unavailable, $"put of {Name}: the node cannot read the handed-over file: {m.Error}; nothing was stored");
                return;
            }
            if (m.Bytes != _request.ExpectedSize)
            {
                Fail(StoreErrorCode.InvalidRequest,
                    $"put of {Name}: the file ended after {m.Bytes} of the announced {_request.ExpectedSize} bytes (it changed during the put); nothing was stored");
                return;
            }
            _bytesReceived = m.Bytes;
            _dataEnded = true;
            FinishDataIfComplete();
        });
        Receive<DataRead>(HandleDataRead);
        Receive<DataFrame>(m =>
        {
            if (_connection is not null || _handedOver is not null || _completeReceived)
            {
                Fail(StoreErrorCode.InvalidRequest, $"put of {Name}: a frame after the upload was completed or while the data connection is in use");
                return;
            }
            if (m.Sequence != _nextSequence)
            {
                Fail(StoreErrorCode.InvalidRequest, $"put of {Name}: frame {m.Sequence} arrived where {_nextSequence} was due");
                return;
            }
            if (m.Data.Length > _settings.FrameSize)
            {
                Fail(StoreErrorCode.InvalidRequest, $"put of {Name}: frame of {m.Data.Length} bytes exceeds the frame size {_settings.FrameSize}");
                return;
            }
            _nextSequence++;
            _bytesReceived += m.Data.Length;
            if (_request.ExpectedSize >= 0 && _bytesReceived > _request.ExpectedSize)
            {
                Fail(StoreErrorCode.InvalidRequest, $"put of {Name}: more bytes than the announced {_request.ExpectedSize}");
                return;
            }
            _chunker.Tell(new ChunkerActor.Bytes(m.Sequence, m.Data));
        });
        Receive<ChunkerActor.Accepted>(m =>
        {
            if (_inline is not null) return;
            if (_connection is null)
            {
                _client.Tell(new FrameAck(m.Sequence));
                return;
            }
            if (_readsUnaccepted.Remove(m.Sequence, out var buffer)) ArrayPool<byte>.Shared.Return(buffer);
            ReadMore();
        });
        Receive<UploadComplete>(m =>
        {
            if (_completeReceived)
            {
                Fail(StoreErrorCode.InvalidRequest, $"put of {Name}: the upload was completed twice");
                return;
            }
            _completeReceived = true;
            if (m.Frames == UploadComplete.ViaDataPort)
            {
                // The client may announce its total before its last bytes have been read here, or even
                // before its connection has been handed over by the data plane.
                _completeAnnounced = m;
                FinishDataIfComplete();
                return;
            }
            if (m.TotalBytes != _bytesReceived || m.Frames != _nextSequence)
            {
                Fail(StoreErrorCode.InvalidRequest,
                    $"put of {Name}: client sent {m.TotalBytes} bytes in {m.Frames} frames, node received {_bytesReceived} in {_nextSequence}");
                return;
            }
            _chunker.Tell(ChunkerActor.EndOfData.Instance);
        });
        Receive<ChunkerActor.ChunkingDone>(m =>
        {
            _newChunkBytes = m.NewChunkBytes;
            var manifest = new ObjectManifest(_request.Bucket, _request.Key, ObjectManifest.NewVersionId(), m.Size, m.Sha256, DateTimeOffset.UtcNow, m.Chunks, _nodeId);
            _distributor.Tell(new CommitObject(manifest, _uploadId));
        });
        Receive<ObjectCommitted>(m =>
        {
            _finished = true;
            _client.Tell(new PutCompleted(Storage.StorageActor.ToInfo(m.Manifest), _newChunkBytes));
            Context.Stop(Self);
        });
        Receive<ChunkBufferReleased>(_ => { });
        Receive<ChunkStored>(m =>
        {
            if (_singleChunk is not { } chunk) return;
            Self.Tell(new ChunkerActor.ChunkingDone([chunk], chunk.Length, chunk.Id, m.Written ? m.Length : 0));
        });
        Receive<ChunkStoreFailed>(m => Fail(m.Code, $"put of {Name} failed: {m.Reason}; nothing was stored"));
        Receive<ChunkerActor.ChunkingFailed>(m => Fail(m.Code, $"put of {Name} failed: {m.Reason}; nothing was stored"));
        Receive<StoreError>(m => Fail(m.Code, m.Message));
        Receive<CancelTransfer>(m =>
        {
            _log.Info("put of {0} cancelled by the client: {1}", Name, m.Reason);
            Context.Stop(Self);
        });
        Receive<Terminated>(m => m.ActorRef.Equals(_client), _ => Context.Stop(Self));
        Receive<ReceiveTimeout>(_ => Fail(StoreErrorCode.Timeout,
            $"put of {Name}: no progress for {_settings.IdleTimeout.TotalSeconds:0}s (client or storage stalled); nothing was stored"));
    }

    /// <summary>
    /// A small object is one chunk (the chunker would not cut it), and its chunk id is also its
    /// object hash: hashed here, handed to the distributor, committed when the quorum holds it.
    /// </summary>
    private void StoreSingleChunk(ReadOnlyMemory<byte> data)
    {
        _bytesReceived = data.Length;
        var sha = ContentHash.Compute(data.Span);
        if (data.Length == 0)
        {
            Self.Tell(new ChunkerActor.ChunkingDone([], 0, sha, 0));
            return;
        }
        var chunk = ChunkBuffer.Rent(data.Length);
        chunk.Append(data.Span);
        _singleChunk = new ChunkRef(sha, data.Length);
        _distributor.Tell(new StoreChunk(sha, chunk, _uploadId));
    }

    private ChunkRef? _singleChunk;

    private void ReadMore()
    {
        if (_connection is null || _readPending || _dataEnded || _readsUnaccepted.Count >= DataReadsAhead) return;
        _readPending = true;
        // Pooled 1 MiB buffers: a sixteenth of the messages that 64 KiB reads would take, and no large
        // object heap allocation per read. A buffer goes back to the pool once the chunker has copied it.
        var buffer = ArrayPool<byte>.Shared.Rent(DataReadSize);
        _connection.GetStream().ReadAsync(buffer).AsTask().PipeTo(Self,
            success: count => new DataRead(buffer, count, null),
            failure: e => new DataRead(buffer, 0, e.GetBaseException().Message));
    }

    private void HandleDataRead(DataRead m)
    {
        _readPending = false;
        if (m.Error is not null)
        {
            Fail(StoreErrorCode.Unavailable, $"put of {Name}: the data connection failed: {m.Error}; nothing was stored");
            return;
        }
        if (m.Count == 0)
        {
            ArrayPool<byte>.Shared.Return(m.Buffer);
            _dataEnded = true;
            FinishDataIfComplete();
            return;
        }
        _bytesReceived += m.Count;
        if (_request.ExpectedSize >= 0 && _bytesReceived > _request.ExpectedSize)
        {
            Fail(StoreErrorCode.InvalidRequest, $"put of {Name}: more bytes than the announced {_request.ExpectedSize}");
            return;
        }
        _readsUnaccepted[_nextSequence] = m.Buffer;
        _chunker.Tell(new ChunkerActor.Bytes(_nextSequence++, m.Buffer.AsMemory(0, m.Count)));
        ReadMore();
    }

    private void FinishDataIfComplete()
    {
        if (!_dataEnded || _completeAnnounced is null) return;
        if (_completeAnnounced.TotalBytes != _bytesReceived)
        {
            Fail(StoreErrorCode.InvalidRequest,
                $"put of {Name}: client sent {_completeAnnounced.TotalBytes} bytes, node received {_bytesReceived} on the data connection");
            return;
        }
        _completeAnnounced = null;
        _chunker.Tell(ChunkerActor.EndOfData.Instance);
    }

    private void Fail(StoreErrorCode code, string message)
    {
        _log.Warning(message);
        _client.Tell(new StoreError(code, message));
        Context.Stop(Self);
    }
}
