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
/// ahead of what is being sent) and streams them to the client as frames, never more than the
/// client's window unacknowledged.
/// </summary>
public sealed class DownloadSessionActor : ReceiveActor
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

    private readonly Dictionary<int, byte[]> _loaded = new();
    private readonly List<int> _requested = [];
    private int _nextToRequest;
    private int _chunkIndex;
    private int _offsetInChunk;
    private long _nextSequence;
    private long _lastAcked = -1;
    private bool _completeSent;

    public DownloadSessionActor(StoreSettings settings, IActorRef storage, string nodeId, IActorRef client, ObjectManifest manifest, int window)
    {
        _settings = settings;
        _storage = storage;
        _nodeId = nodeId;
        _client = client;
        _manifest = manifest;
        _window = Math.Clamp(window, 1, 1024);

        Receive<ChunkRead>(HandleChunk);
        Receive<FrameAck>(m =>
        {
            _lastAcked = Math.Max(_lastAcked, m.Sequence);
            if (_completeSent && _lastAcked == _nextSequence - 1)
            {
                Context.Stop(Self);
                return;
            }
            Pump();
        });
        Receive<StoreError>(m => Fail(m.Code, $"get of {Name} failed: {m.Message}"));
        Receive<CancelTransfer>(_ => Context.Stop(Self));
        Receive<Terminated>(m => m.ActorRef.Equals(_client), _ => Context.Stop(Self));
        Receive<ReceiveTimeout>(_ => Fail(StoreErrorCode.Timeout, $"get of {Name}: no progress for {_settings.IdleTimeout.TotalSeconds:0}s"));
    }

    public static Props Props(StoreSettings settings, IActorRef storage, string nodeId, IActorRef client, ObjectManifest manifest, int window) =>
        Akka.Actor.Props.Create(() => new DownloadSessionActor(settings, storage, nodeId, client, manifest, window));

    private string Name => $"{_manifest.Bucket}/{_manifest.Key}";

    protected override void PreStart()
    {
        var lengths = _manifest.Chunks.DistinctBy(c => c.Id).ToDictionary(c => c.Id, c => c.Length);
        _reader = Context.ActorOf(ReplicatedChunkReader.Props(_settings, _storage, ClusterRing.Current(Context.System, _nodeId), lengths), "reader");
        Context.Watch(_client);
        Context.SetReceiveTimeout(_settings.IdleTimeout);
        _client.Tell(new DownloadReady(Storage.StorageActor.ToInfo(_manifest), Self));
        RequestAhead();
        Pump();
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
        Pump();
    }

    private void Pump()
    {
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
