using Akka.Actor;
using Akka.Event;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Replication;
using ObjectStore.Core.Metadata;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.ChunkStorageProtocol;

namespace ObjectStore.Actors.Transfer.Download;

/// <summary>
/// The node's side of one get: reads the object's chunks through a <see cref="ReplicatedChunkReader"/>
/// (<see cref="StoreSettings.ReadParallelism"/> ahead of what has been sent, each verified) and hands them in
/// order to an <see cref="IDownloadSink"/>.
/// For an object larger than a frame the client picks: its temp file handed over (a client on this machine),
/// the data connection (an object larger than a window of frames), or frames (FrameAck(-1)); a smaller
/// object goes in a frame at once.
/// </summary>
public sealed class DownloadSessionActor : WireActor, IDownloadSinkOwner
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly StoreSettings _settings;
    private readonly string _nodeId;
    private readonly IActorRef _chunkReader;
    private readonly IActorRef _client;
    private readonly ObjectManifest _manifest;
    private readonly int _window;
    private readonly DataPlane? _dataPlane;
    private IActorRef _reader = ActorRefs.Nobody;
    private byte[] _dataToken = [];
    private IDownloadSink? _sink;
    private readonly Dictionary<int, ChunkRead> _loaded = new();
    private readonly List<int> _requested = [];
    private int _nextToRequest, _nextToSink;
    private bool _ended;

    public DownloadSessionActor(StoreSettings settings, string nodeId, IActorRef chunkReader, IActorRef client, ObjectManifest manifest, int window,
        DataPlane? dataPlane)
    {
        (_settings, _nodeId, _chunkReader, _client, _manifest, _dataPlane) = (settings, nodeId, chunkReader, client, manifest, dataPlane);
        _window = Math.Clamp(window, 1, 1024);

        Receive<DataConnectionOpened>(m => Sending(new SocketDownloadSink(this, _client, Self, _manifest.Size, m.Client)));
        Receive<LocalFileOpened>(m => Sending(new FileDownloadSink(this, _client, Self, _manifest.Size, m.File)));
        // FrameAck(-1): the client could not reach the data port; frames it is.
        Receive<FrameAck>(m =>
        {
            _dataPlane?.Forget(_dataToken);
            Sending(FrameSink());
            _sink!.Handle(m);
        });
        Common();
    }

    public static Props Props(StoreSettings settings, string nodeId, IActorRef chunkReader, IActorRef client, ObjectManifest manifest, int window,
        DataPlane? dataPlane = null) =>
        ActorProps.Of(() => new DownloadSessionActor(settings, nodeId, chunkReader, client, manifest, window, dataPlane));

    private string Name => $"{_manifest.Bucket}/{_manifest.Key}";

    private FrameDownloadSink FrameSink() => new(this, _client, Self, _manifest.Size, _settings.FrameSize, _window, _settings.IdleTimeout);

    protected override void PreStart()
    {
        var lengths = _manifest.Chunks.DistinctBy(c => c.Id).ToDictionary(c => c.Id, c => c.Length);
        _reader = Context.ActorOf(ReplicatedChunkReader.Props(_settings, _chunkReader, ClusterRing.Current(Context.System, _nodeId), lengths, _manifest), "reader");
        Context.Watch(_client);
        Context.SetReceiveTimeout(_settings.IdleTimeout);
        var info = ObjectInfos.Of(_manifest);
        // Anything larger than a frame: the client picks a hand-over (on this machine), the data port (larger
        // than a window of frames) or frames (FrameAck(-1)).
        if (_dataPlane is not null && _manifest.Size > _settings.FrameSize)
        {
            _dataToken = _dataPlane.Expect(Self);
            _client.Tell(new DownloadReady(info, Self, _dataPlane.Host, _dataPlane.Port, _dataToken, _dataPlane.HandOverName));
        }
        else
        {
            _client.Tell(new DownloadReady(info, Self));
            Sending(FrameSink());
        }
        RequestAhead();
    }

    protected override void PostStop()
    {
        _dataPlane?.Forget(_dataToken);
        foreach (var loaded in _loaded.Values) loaded.Lease?.Dispose();
        _sink?.Dispose();
    }

    private void Sending(IDownloadSink sink)
    {
        _sink = sink;
        Become(() =>
        {
            Common();
            ReceiveAny(m =>
            {
                if (sink.Handle(m)) return;
                if (m is DataConnectionOpened or LocalFileOpened)
                {
                    (m as DataConnectionOpened)?.Client.Dispose();
                    (m as LocalFileOpened)?.File.Dispose();
                    Fail(StoreErrorCode.InvalidRequest, $"get of {Name}: a second data connection, or one after frames were asked for");
                    return;
                }
                Unhandled(m);
            });
        });
        Deliver();
    }

    private void Common()
    {
        Receive<ChunkRead>(HandleChunk);
        Receive<StoreError>(m => Fail(m.Code, $"get of {Name} failed: {m.Message}"));
        Receive<CancelTransfer>(_ => Context.Stop(Self));
        Receive<Terminated>(m => m.ActorRef.Equals(_client), _ => Context.Stop(Self));
        Receive<ReceiveTimeout>(_ => Fail(StoreErrorCode.Timeout,
            $"get of {Name}: {_sink?.Stalled ?? "the client did not start"} for {_settings.IdleTimeout.TotalSeconds:0}s"));
    }

    private void RequestAhead()
    {
        // Chunks read or being read, and not yet sent whole: at most read-parallelism in memory per get.
        // Into a handed-over file the reads go two at a time, so that the reader checks them as a pair (one SHA-NI
        // pass for both: ChunkReaderActor); one at a time, as slots free up, almost all went alone. A lone free
        // slot waits only while a read is out (whose answer frees another): with one slot in all it never would.
        var pooled = _sink is FileDownloadSink;
        int Free() => _settings.ReadParallelism - (_requested.Count + _loaded.Count + (_sink?.Pending ?? 0));
        if (pooled && Free() == 1 && _manifest.Chunks.Count - _nextToRequest > 1 && _requested.Count > 0) return;
        while (_nextToRequest < _manifest.Chunks.Count && Free() > 0)
        {
            _requested.Add(_nextToRequest);
            // Every chunk checked against its id on the thread that reads it. Into the handed-over file in pooled
            // buffers, which the sink gives back once the chunk is written.
            _reader.Tell(new ReadChunk(_manifest.Chunks[_nextToRequest].Id, Verify: true, Pooled: pooled));
            _nextToRequest++;
        }
    }

    private void HandleChunk(ChunkRead m)
    {
        // Reads may finish out of order, and one chunk may appear twice in an object: fill the
        // earliest outstanding request for this id.
        var slot = _requested.FindIndex(i => _manifest.Chunks[i].Id == m.Id);
        if (slot < 0)
        {
            m.Lease?.Dispose();
            return;
        }
        var index = _requested[slot];
        _requested.RemoveAt(slot);
        if (m.Data.Length != _manifest.Chunks[index].Length)
        {
            m.Lease?.Dispose();
            Fail(StoreErrorCode.Corrupt, $"get of {Name}: chunk {m.Id.ToShortString()} has {m.Data.Length} bytes, the object lists {_manifest.Chunks[index].Length}");
            return;
        }
        _loaded[index] = m;
        Deliver();
    }

    /// <summary>Hands the chunks loaded in order to the sink, and ends it after the last.</summary>
    private void Deliver()
    {
        if (_sink is null) return;
        while (_loaded.Remove(_nextToSink, out var data))
        {
            _nextToSink++;
            _sink.Add(data);
        }
        if (_nextToSink == _manifest.Chunks.Count && !_ended)
        {
            _ended = true;
            _sink.End();
        }
        RequestAhead();
    }

    void IDownloadSinkOwner.SinkMoved() => RequestAhead();

    void IDownloadSinkOwner.SinkDone()
    {
        Metrics.StoreMetrics.Gets.Add(1, new KeyValuePair<string, object?>("outcome", "ok"));
        Metrics.StoreMetrics.BytesOut.Add(_manifest.Size);
        Metrics.StoreMetrics.GetSeconds.Record(System.Diagnostics.Stopwatch.GetElapsedTime(_startedTicks).TotalSeconds);
        Context.Stop(Self);
    }

    private readonly long _startedTicks = System.Diagnostics.Stopwatch.GetTimestamp();

    void IDownloadSinkOwner.SinkFailed(StoreErrorCode code, string message)
    {
        _log.Info("get of {0}: {1}", Name, message);
        Metrics.StoreMetrics.Gets.Add(1, new KeyValuePair<string, object?>("outcome", "failed"));
        _client.Tell(new StoreError(code, $"get of {Name}: {message}"));
        Context.Stop(Self);
    }

    private void Fail(StoreErrorCode code, string message)
    {
        _log.Warning(message);
        _client.Tell(new StoreError(code, message));
        Context.Stop(Self);
    }
}
