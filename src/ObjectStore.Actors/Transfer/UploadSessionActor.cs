using Akka.Actor;
using Akka.Event;
using ObjectStore.Actors.Chunking;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Metadata;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.StorageProtocol;

namespace ObjectStore.Actors.Transfer;

/// <summary>
/// The node's side of one put. Receives the client's frames in order, feeds them to a
/// <see cref="ChunkerActor"/>, acknowledges each frame once the chunker has taken it (so the client's
/// window is the back-pressure), and commits the object only after every chunk is durable.
/// The object is invisible until that commit; any failure before it leaves the store as it was.
/// </summary>
public sealed class UploadSessionActor : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly StoreSettings _settings;
    private readonly IActorRef _storage;
    private readonly IActorRef _client;
    private readonly PutObject _request;
    private readonly string _uploadId = ObjectManifest.NewVersionId();
    private IActorRef _chunker = ActorRefs.Nobody;
    private long _nextSequence;
    private long _bytesReceived;
    private long _newChunkBytes;
    private bool _finished;

    public UploadSessionActor(StoreSettings settings, IActorRef storage, IActorRef client, PutObject request)
    {
        _settings = settings;
        _storage = storage;
        _client = client;
        _request = request;
        Receiving();
    }

    public static Props Props(StoreSettings settings, IActorRef storage, IActorRef client, PutObject request) =>
        Akka.Actor.Props.Create(() => new UploadSessionActor(settings, storage, client, request));

    private string Name => $"{_request.Bucket}/{_request.Key}";

    protected override void PreStart()
    {
        _chunker = Context.ActorOf(ChunkerActor.Props(_settings.Chunking.CreateChunker(), _storage, _uploadId, _settings.ChunksInFlight), "chunker");
        Context.Watch(_client);
        Context.SetReceiveTimeout(_settings.IdleTimeout);
        _client.Tell(new UploadReady(Self, _settings.Window, _settings.FrameSize));
    }

    protected override void PostStop()
    {
        _storage.Tell(new ReleaseUpload(_uploadId));
        if (!_finished) _log.Info("put of {0} abandoned after {1} bytes", Name, _bytesReceived);
    }

    private void Receiving()
    {
        Receive<DataFrame>(m =>
        {
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
        Receive<ChunkerActor.Accepted>(m => _client.Tell(new FrameAck(m.Sequence)));
        Receive<UploadComplete>(m =>
        {
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
            var manifest = new ObjectManifest(_request.Bucket, _request.Key, ObjectManifest.NewVersionId(), m.Size, m.Sha256, DateTimeOffset.UtcNow, m.Chunks);
            _storage.Tell(new CommitObject(manifest, _uploadId));
        });
        Receive<ObjectCommitted>(m =>
        {
            _finished = true;
            _client.Tell(new PutCompleted(Storage.StorageActor.ToInfo(m.Manifest), _newChunkBytes));
            Context.Stop(Self);
        });
        Receive<ChunkerActor.ChunkingFailed>(m => Fail(StoreErrorCode.StorageFailure, $"put of {Name} failed: {m.Reason}"));
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

    private void Fail(StoreErrorCode code, string message)
    {
        _log.Warning(message);
        _client.Tell(new StoreError(code, message));
        Context.Stop(Self);
    }
}
