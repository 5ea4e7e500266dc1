using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Replication;
using ObjectStore.Core.Metadata;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.StorageProtocol;

namespace ObjectStore.Actors.Transfer;

/// <summary>
/// The node's side of one get: reads the object's chunks (verified by the storage actor, a couple
/// ahead of what is being sent) and streams them to the client — on the node's data port when the
/// object is larger than a window of frames (one chunk written at a time; TCP's flow control paces
/// it), otherwise, or when the client cannot reach that port, as frames with never more than the
/// client's window unacknowledged.
/// </summary>
/// <remarks>
/// Why the data port: measured here, a 1 GiB get as 64 KiB Akka.Remote frames took 5.4–5.8 s, about
/// 4 s of CPU on each side in serialization and copies (the reason puts moved there first).
/// </remarks>
public sealed class DownloadSessionActor : WireActor
{
    private const int ChunksAhead = 2;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly StoreSettings _settings;
    private readonly IActorRef _storage;
    private readonly string _nodeId;
    private IActorRef _reader = ActorRefs.Nobody;
    private readonly IActorRef _client;
    private readonly ObjectManifest _manifest;
    private readonly int _window;
    private readonly DataPlane? _dataPlane;
    private byte[] _dataToken = [];
    private TcpClient? _connection;
    private bool _framesStarted, _writing;

    private sealed record ChunkWritten : ILocalMessage;
    private sealed record WriteFailed(string Reason) : ILocalMessage;

    private readonly Dictionary<int, byte[]> _loaded = new();
    private readonly List<int> _requested = [];
    private int _nextToRequest;
    private int _chunkIndex;
    private int _offsetInChunk;
    private long _nextSequence;
    private long _lastAcked = -1;
    private bool _completeSent;

    public DownloadSessionActor(StoreSettings settings, IActorRef storage, string nodeId, IActorRef client, ObjectManifest manifest, int window,
        DataPlane? dataPlane)
    {
        _dataPlane = dataPlane;
        _settings = settings;
        _storage = storage;
        _nodeId = nodeId;
        _client = client;
        _manifest = manifest;
        _window = Math.Clamp(window, 1, 1024);

        Receive<ChunkRead>(HandleChunk);
        Receive<FrameAck>(m =>
        {
            if (_connection is not null)
            {
                Fail(StoreErrorCode.InvalidRequest, $"get of {Name}: frames asked for while the data connection is in use");
                return;
            }
            if (!_framesStarted)
            {
                // The client could not reach the data port (FrameAck(-1)): frames it is.
                _framesStarted = true;
                _dataPlane?.Forget(_dataToken);
            }
            _lastAcked = Math.Max(_lastAcked, m.Sequence);
            if (_completeSent && _lastAcked == _nextSequence - 1)
            {
                Context.Stop(Self);
                return;
            }
            Pump();
        });
        Receive<DataConnectionOpened>(m =>
        {
            if (_connection is not null || _framesStarted)
            {
                m.Client.Dispose();
                Fail(StoreErrorCode.InvalidRequest, $"get of {Name}: a second data connection, or one after frames were asked for");
                return;
            }
            _connection = m.Client;
            WriteNext();
        });
        Receive<ChunkWritten>(_ =>
        {
            _writing = false;
            WriteNext();
        });
        Receive<WriteFailed>(m =>
        {
            // The client went away or its connection broke; if it is still there it hears why over Akka.Remote.
            _log.Info("get of {0}: data connection failed: {1}", Name, m.Reason);
            _client.Tell(new StoreError(StoreErrorCode.Unavailable, $"get of {Name}: the data connection failed ({m.Reason})"));
            Context.Stop(Self);
        });
        Receive<StoreError>(m => Fail(m.Code, $"get of {Name} failed: {m.Message}"));
        Receive<CancelTransfer>(_ => Context.Stop(Self));
        Receive<Terminated>(m => m.ActorRef.Equals(_client), _ => Context.Stop(Self));
        Receive<ReceiveTimeout>(_ => Fail(StoreErrorCode.Timeout, $"get of {Name}: no progress for {_settings.IdleTimeout.TotalSeconds:0}s"));
    }

    public static Props Props(StoreSettings settings, IActorRef storage, string nodeId, IActorRef client, ObjectManifest manifest, int window,
        DataPlane? dataPlane = null) =>
        Akka.Actor.Props.Create(() => new DownloadSessionActor(settings, storage, nodeId, client, manifest, window, dataPlane));

    private string Name => $"{_manifest.Bucket}/{_manifest.Key}";

    protected override void PreStart()
    {
        var lengths = _manifest.Chunks.DistinctBy(c => c.Id).ToDictionary(c => c.Id, c => c.Length);
        _reader = Context.ActorOf(ReplicatedChunkReader.Props(_settings, _storage, ClusterRing.Current(Context.System, _nodeId), lengths), "reader");
        Context.Watch(_client);
        Context.SetReceiveTimeout(_settings.IdleTimeout);
        var info = Storage.StorageActor.ToInfo(_manifest);
        // An object that fits in one window of frames goes as frames: one round trip, where a data
        // connection would first cost a TCP handshake and a token exchange.
        if (_dataPlane is not null && _manifest.Size > (long)_window * _settings.FrameSize)
        {
            _dataToken = _dataPlane.Expect(Self);
            _client.Tell(new DownloadReady(info, Self, _dataPlane.Host, _dataPlane.Port, _dataToken));
        }
        else
        {
            _framesStarted = true;
            _client.Tell(new DownloadReady(info, Self));
        }
        RequestAhead();
        Pump();
    }

    protected override void PostStop()
    {
        _dataPlane?.Forget(_dataToken);
        _connection?.Dispose();
    }

    /// <summary>Writes the next chunk to the data connection once it is loaded; after the last, closes the sending side.</summary>
    private void WriteNext()
    {
        if (_connection is null || _writing || _completeSent) return;
        if (_chunkIndex == _manifest.Chunks.Count)
        {
            _completeSent = true;
            try
            {
                _connection.Client.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                Self.Tell(new WriteFailed(e.Message));
                return;
            }
            _client.Tell(new DownloadComplete(_manifest.Size));
            Context.Stop(Self);
            return;
        }
        if (!_loaded.Remove(_chunkIndex, out var data)) return;
        _writing = true;
        _chunkIndex++;
        RequestAhead();
        _connection.GetStream().WriteAsync(data).AsTask().PipeTo(Self,
            success: () => new ChunkWritten(),
            failure: e => new WriteFailed(e.GetBaseException().Message));
    }

    private void RequestAhead()
    {
        while (_nextToRequest < _manifest.Chunks.Count && _nextToRequest < _chunkIndex + ChunksAhead)
        {
            _requested.Add(_nextToRequest);
            _reader.Tell(new ReadChunk(_manifest.Chunks[_nextToRequest].Id));
            _nextToRequest++;
        }
    }

    private void HandleChunk(ChunkRead m)
    {
        // Reads may finish out of order, and one chunk may appear twice in an object: fill the
        // earliest outstanding request for this id.
        var slot = _requested.FindIndex(i => _manifest.Chunks[i].Id == m.Id);
        if (slot < 0) return;
        var index = _requested[slot];
        _requested.RemoveAt(slot);
        if (m.Data.Length != _manifest.Chunks[index].Length)
        {
            Fail(StoreErrorCode.Corrupt, $"get of {Name}: chunk {m.Id.ToShortString()} has {m.Data.Length} bytes, the object lists {_manifest.Chunks[index].Length}");
            return;
        }
        _loaded[index] = m.Data;
        if (_connection is not null) WriteNext();
        else Pump();
    }

    private void Pump()
    {
        if (!_framesStarted) return;
        while (_nextSequence - (_lastAcked + 1) < _window && _chunkIndex < _manifest.Chunks.Count && _loaded.TryGetValue(_chunkIndex, out var data))
        {
            var length = Math.Min(_settings.FrameSize, data.Length - _offsetInChunk);
            _client.Tell(new DataFrame(_nextSequence++, data.AsMemory(_offsetInChunk, length)));
            _offsetInChunk += length;
            if (_offsetInChunk == data.Length)
            {
                _loaded.Remove(_chunkIndex);
                _chunkIndex++;
                _offsetInChunk = 0;
                RequestAhead();
            }
        }
        if (_chunkIndex == _manifest.Chunks.Count && !_completeSent)
        {
            _completeSent = true;
            _client.Tell(new DownloadComplete(_manifest.Size));
            if (_lastAcked == _nextSequence - 1) Context.Stop(Self);
        }
    }

    private void Fail(StoreErrorCode code, string message)
    {
        _log.Warning(message);
        _client.Tell(new StoreError(code, message));
        Context.Stop(Self);
    }
}
