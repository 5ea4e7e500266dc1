using Akka.Actor;
using Akka.Event;
using ObjectStore.Actors.Chunking;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Replication;
using ObjectStore.Core.Chunking;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.ChunkStorageProtocol;
using static ObjectStore.Actors.Storage.IndexProtocol;

namespace ObjectStore.Actors.Transfer.Upload;

/// <summary>
/// The node's side of one put, in two phases: waiting for the bytes to start (the first frame, a data
/// connection, or a handed-over file decides the <see cref="IUploadSource"/>), then receiving them into
/// the put's <see cref="ChunkerActor"/>; in either, once every chunk is durable on its quorum (through the
/// put's <see cref="ChunkDistributor"/>), the object is committed. The object is invisible until that commit; any
/// failure before it leaves the store as it was.
/// </summary>
public sealed class UploadSessionActor : WireActor, IWithStash, IUploadSourceOwner
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly UploadContext _node;
    private readonly IActorRef _client;
    private readonly PutObject _request;
    private readonly ReadOnlyMemory<byte>? _inline;
    private readonly string _uploadId = ObjectManifest.NewVersionId();
    private byte[] _dataToken = [];
    private IActorRef _chunker = ActorRefs.Nobody;
    private IActorRef _distributor = ActorRefs.Nobody;
    private IUploadSource? _source;
    private ChunkRef? _singleChunk;
    private long _received;
    private long _newChunkBytes;
    private bool _finished;
    /// <summary>Every chunk is durable and the commit has been asked for: too late to cancel.</summary>
    private bool _committing;
    private readonly long _startedTicks = System.Diagnostics.Stopwatch.GetTimestamp();

    public IStash Stash { get; set; } = null!;

    /// <param name="inline">The whole object, when it came inside the request (a small put): no transfer, no UploadReady.</param>
    public UploadSessionActor(UploadContext node, IActorRef client, PutObject request, ReadOnlyMemory<byte>? inline = null)
    {
        (_node, _client, _request, _inline) = (node, client, request, inline);
        AwaitingBytes();
    }

    public static Props Props(UploadContext node, IActorRef client, PutObject request, ReadOnlyMemory<byte>? inline = null) =>
        ActorProps.Of(() => new UploadSessionActor(node, client, request, inline));

    private string Name => $"{_request.Bucket}/{_request.Key}";
    private StoreSettings Settings => _node.Settings;

    protected override void PreStart()
    {
        // The placement is fixed for the whole put: every chunk and the manifest see the same owners.
        var ring = ClusterRing.Current(Context.System, _node.NodeId);
        _distributor = Context.ActorOf(ChunkDistributor.Props(Settings, _node.Keeper, _node.Pushes, ring, _uploadId), "distributor");
        Context.SetReceiveTimeout(Settings.IdleTimeout);
        if (_inline is { } data && data.Length <= Settings.Chunking.SingleChunkLimit)
        {
            StoreSingleChunk(data);
            return;
        }
        _chunker = Context.ActorOf(ChunkerActor.Props(Settings.Chunking.CreateChunker(), _distributor, _uploadId, Settings.ChunksInFlight,
            Settings.ChunksAwaitingCommit, Settings.Chunking.ShaNi), "chunker");
        if (_inline is { } bytes)
        {
            Receiving(new InlineUploadSource(this, _chunker, bytes));
            return;
        }
        Context.Watch(_client);
        var plane = _node.DataPlane;
        if (plane is not null) _dataToken = plane.Expect(Self);
        _client.Tell(new UploadReady(Self, Settings.Window, Settings.FrameSize, plane?.Host ?? "", plane?.Port ?? 0, _dataToken,
            _request.ExpectedSize >= 0 ? plane?.HandOverName ?? "" : ""));
    }

    protected override void PostStop()
    {
        _node.DataPlane?.Forget(_dataToken);
        _source?.Dispose();
        _node.Keeper.Tell(new ReleaseUpload(_uploadId));
        if (!_finished) _log.Info("put of {0} abandoned after {1} bytes", Name, _received);
    }

    /// <summary>Phase 1: the way the bytes come is not decided yet.</summary>
    private void AwaitingBytes()
    {
        Receive<DataConnectionOpened>(m => Receiving(new SocketUploadSource(this, _chunker, Self, Name, _request.ExpectedSize, m.Client)));
        Receive<LocalFileOpened>(m =>
        {
            if (_request.ExpectedSize < 0)
            {
                m.File.Dispose();
                Fail(StoreErrorCode.InvalidRequest, $"put of {Name}: a handed-over file without an announced size");
                return;
            }
            Receiving(new FileUploadSource(this, _chunker, Name, _request.ExpectedSize, m.File));
        });
        Receive<DataFrame>(m => ByFrames().Handle(m));
        // The client may announce its total before the data plane has handed its connection over.
        Receive<UploadComplete>(m => m.Frames == UploadComplete.ViaDataPort, _ => Stash.Stash());
        // An empty object sent as frames: no frame, just the end.
        Receive<UploadComplete>(m => ByFrames().Handle(m));
        Always();
    }

    private FrameUploadSource ByFrames()
    {
        var frames = new FrameUploadSource(this, _chunker, Name, _request.ExpectedSize, Settings.FrameSize);
        Receiving(frames);
        return frames;
    }

    /// <summary>Phase 2: bytes from one source go to the chunker; anything of another way of sending is refused.</summary>
    private void Receiving(IUploadSource source)
    {
        _source = source;
        Become(() =>
        {
            Always();
            ReceiveAny(m =>
            {
                if (source.Handle(m)) return;
                if (m is not (DataConnectionOpened or LocalFileOpened or DataFrame or UploadComplete))
                {
                    Unhandled(m);
                    return;
                }
                if (m is DataConnectionOpened c) c.Client.Dispose();
                if (m is LocalFileOpened f) f.File.Dispose();
                Fail(StoreErrorCode.InvalidRequest, $"put of {Name}: {Describe(m)} while the bytes come another way");
            });
        });
        Stash.UnstashAll();
    }

    private static string Describe(object m) => m switch
    {
        DataConnectionOpened => "a second data connection",
        LocalFileOpened => "a handed-over file",
        DataFrame => "a frame",
        UploadComplete => "a second end of the upload",
        _ => m.GetType().Name,
    };

    /// <summary>What every phase handles: the chunks becoming durable, the commit, and the ways a put ends early.</summary>
    private void Always()
    {
        Receive<ChunkerActor.ChunkingDone>(m =>
        {
            _newChunkBytes = m.NewChunkBytes;
            _committing = true;
            var manifest = new ObjectManifest(_request.Bucket, _request.Key, ObjectManifest.NewVersionId(), m.Size, m.Sha256, DateTimeOffset.UtcNow,
                m.Chunks, _node.NodeId, _request.File);
            _distributor.Tell(new CommitObject(manifest, _uploadId));
        });
        Receive<ObjectCommitted>(m =>
        {
            _finished = true;
            _client.Tell(new PutCompleted(ObjectInfos.Of(m.Manifest), _newChunkBytes, m.Copies, m.Factor, m.Queued));
            Metrics.StoreMetrics.Puts.Add(1, new KeyValuePair<string, object?>("outcome", "ok"));
            Metrics.StoreMetrics.PutSeconds.Record(System.Diagnostics.Stopwatch.GetElapsedTime(_startedTicks).TotalSeconds);
            Context.Stop(Self);
        });
        Receive<ChunkStored>(m =>
        {
            if (_singleChunk is { } chunk) Self.Tell(new ChunkerActor.ChunkingDone([chunk], chunk.Length, chunk.Id, m.Written ? m.Length : 0));
        });
        Receive<ChunkStoreFailed>(m => Fail(m.Code, $"put of {Name} failed: {m.Reason}; nothing was stored"));
        Receive<ChunkerActor.ChunkingFailed>(m => Fail(m.Code, $"put of {Name} failed: {m.Reason}; nothing was stored"));
        Receive<StoreError>(m => Fail(m.Code, m.Message));
        Receive<CancelTransfer>(m =>
        {
            if (_committing)
            {
                // The commit may already be on some replicas: finish it, and the client hears PutCompleted.
                _log.Info("put of {0}: the client cancelled ({1}) while the object was being committed; finishing the commit", Name, m.Reason);
                return;
            }
            _log.Info("put of {0} cancelled by the client: {1}", Name, m.Reason);
            Storage.CrashFailpoint.PutCancelled();
            _finished = true;
            _client.Tell(new StoreError(StoreErrorCode.Cancelled, $"put of {Name} cancelled ({m.Reason}); nothing was stored"));
            Context.Stop(Self);
        });
        Receive<Terminated>(m => m.ActorRef.Equals(_client), _ => Context.Stop(Self));
        Receive<ReceiveTimeout>(_ => Fail(StoreErrorCode.Timeout,
            $"put of {Name}: no progress for {Settings.IdleTimeout.TotalSeconds:0}s (client or storage stalled); nothing was stored"));
    }

    /// <summary>
    /// A small object is one chunk (the chunker would not cut it), and its chunk id is also its object
    /// hash: hashed here, handed to the distributor, committed when the quorum holds it.
    /// </summary>
    private void StoreSingleChunk(ReadOnlyMemory<byte> data)
    {
        Received(data.Length);
        var sha = ContentHash.Compute(data.Span);
        if (data.Length == 0)
        {
            Self.Tell(new ChunkerActor.ChunkingDone([], 0, sha, 0));
            return;
        }
        _singleChunk = new ChunkRef(sha, data.Length);
        _distributor.Tell(new StoreChunk(sha, ChunkBuffer.CopyOf(data.Span), _uploadId));
    }

    /// <summary>Bytes taken in are counted as they arrive, so a scrape during a long put sees them move.</summary>
    private void Received(long total)
    {
        if (total > _received) Metrics.StoreMetrics.BytesIn.Add(total - _received);
        _received = total;
    }

    void IUploadSourceOwner.SourceEnded(long totalBytes)
    {
        Received(totalBytes);
        _chunker.Tell(ChunkerActor.EndOfData.Instance);
    }

    void IUploadSourceOwner.SourceProgress(long bytes)
    {
        Received(bytes);
        _client.Tell(new UploadProgress(bytes));
    }

    void IUploadSourceOwner.SourceFailed(StoreErrorCode code, string message) => Fail(code, message);

    private void Fail(StoreErrorCode code, string message)
    {
        Metrics.StoreMetrics.Puts.Add(1, new KeyValuePair<string, object?>("outcome", "failed"));
        _log.Warning(message);
        _client.Tell(new StoreError(code, message));
        Context.Stop(Self);
    }
}
