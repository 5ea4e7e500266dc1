using Akka.Actor;
using ObjectStore.Actors.Coordination;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Replication;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.ChunkStorageProtocol;

namespace ObjectStore.Actors.Transfer.Download;

/// <summary>
/// The node's side of a batch of small gets (<see cref="GetSmallObjects"/>): every key's newest version in
/// one lookup per node (<see cref="ClusterQueries.NewestManifests"/>), the chunks of those that fit the
/// reply (one frame of data in all) read through one <see cref="ReplicatedChunkReader"/> (this node's disk,
/// else the other holders, each chunk checked against its id), each object checked against its SHA-256,
/// and all of them answered in one reply. An object too large for what is left of the reply is answered
/// "get it on its own"; one that cannot be read fails alone.
/// </summary>
internal sealed class SmallGetBatchActor : ReceiveActor
{
    private sealed record Looked(IReadOnlyList<object> Versions) : ILocalMessage;
    private sealed record ChunkAnswer(ContentHash Id, object Reply) : ILocalMessage;

    private readonly StoreSettings _settings;
    private readonly string _nodeId;
    private readonly IActorRef _chunkReader;
    private readonly IActorRef _client;
    private readonly GetSmallObjects _request;
    private readonly SmallGetOutcome?[] _outcomes;
    private readonly ObjectManifest?[] _reading;
    private readonly Dictionary<ContentHash, ReadOnlyMemory<byte>> _chunks = new();
    private readonly Dictionary<ContentHash, StoreError> _failed = new();
    private int _chunksPending;

    public SmallGetBatchActor(StoreSettings settings, string nodeId, IActorRef chunkReader, IActorRef client, GetSmallObjects request,
        Task<IReadOnlyList<object>> lookup)
    {
        (_settings, _nodeId, _chunkReader, _client, _request) = (settings, nodeId, chunkReader, client, request);
        _outcomes = new SmallGetOutcome?[request.Keys.Count];
        _reading = new ObjectManifest?[request.Keys.Count];
        lookup.PipeTo(Self, success: v => new Looked(v),
            failure: e => new Looked(request.Keys.Select(_ => (object)new StoreError(StoreErrorCode.Unavailable, $"lookup failed ({e.GetType().Name})")).ToList()));

        Receive<Looked>(m => Read(m.Versions));
        Receive<ChunkAnswer>(m =>
        {
            if (m.Reply is ChunkRead read) _chunks[m.Id] = read.Detach();
            else _failed[m.Id] = m.Reply as StoreError ?? new StoreError(StoreErrorCode.Unavailable, $"chunk {m.Id.ToShortString()}: no answer");
            if (--_chunksPending == 0) Assemble();
        });
        Receive<ReceiveTimeout>(_ =>
        {
            for (var i = 0; i < _outcomes.Length; i++)
                _outcomes[i] ??= new SmallGetOutcome(_request.Keys[i], null, default, false,
                    new StoreError(StoreErrorCode.Timeout, $"{_request.Bucket}/{_request.Keys[i]}: not read within {_settings.RequestTimeout.TotalSeconds:0}s"));
            Answer();
        });
    }

    public static Props Props(StoreSettings settings, string nodeId, IActorRef chunkReader, IActorRef client, GetSmallObjects request,
        Task<IReadOnlyList<object>> lookup) =>
        ActorProps.Of(() => new SmallGetBatchActor(settings, nodeId, chunkReader, client, request, lookup));

    protected override void PreStart() => Context.SetReceiveTimeout(_settings.RequestTimeout);

    private void Read(IReadOnlyList<object> versions)
    {
        // The reply holds the objects' bytes and, for every key, its info or error: together at most a frame.
        long budget = _settings.FrameSize - _request.Keys.Sum(SmallBatches.KeyCost);
        for (var i = 0; i < versions.Count; i++)
        {
            var key = _request.Keys[i];
            switch (versions[i])
            {
                case ObjectManifest m when m.Size <= budget:
                    budget -= m.Size;
                    _reading[i] = m;
                    break;
                case ObjectManifest m:
                    _outcomes[i] = new SmallGetOutcome(key, ObjectInfos.Of(m), default, false, null);
                    break;
                case ClusterQueries.PartialManifest p:
                    _outcomes[i] = new SmallGetOutcome(key, ObjectInfos.Of(p.First.Manifest!) with { ChunkCount = p.First.TotalChunks }, default, false, null);
                    break;
                case StoreError e:
                    _outcomes[i] = new SmallGetOutcome(key, null, default, false, e);
                    break;
                default:
                    _outcomes[i] = new SmallGetOutcome(key, null, default, false, new StoreError(StoreErrorCode.Unavailable, $"{_request.Bucket}/{key}: no answer"));
                    break;
            }
        }
        var wanted = _reading.OfType<ObjectManifest>().SelectMany(m => m.Chunks).DistinctBy(c => c.Id).ToList();
        if (wanted.Count == 0)
        {
            Assemble();
            return;
        }
        var versionOf = new Dictionary<ContentHash, ObjectManifest>();
        foreach (var m in _reading.OfType<ObjectManifest>())
            foreach (var c in m.Chunks) versionOf.TryAdd(c.Id, m);
        var reader = Context.ActorOf(ReplicatedChunkReader.Props(_settings, _chunkReader, ClusterRing.Current(Context.System, _nodeId),
            wanted.ToDictionary(c => c.Id, c => c.Length), repairForChunk: versionOf), "reader");
        _chunksPending = wanted.Count;
        foreach (var c in wanted)
        {
            var id = c.Id;
            reader.Ask<object>(new ReadChunk(id, Verify: true), _settings.RequestTimeout)
                .PipeTo(Self, success: reply => new ChunkAnswer(id, reply), failure: e => new ChunkAnswer(id, e));
        }
    }

    /// <summary>Every chunk has been read or has failed: each object is put together and checked whole.</summary>
    private void Assemble()
    {
        for (var i = 0; i < _reading.Length; i++)
        {
            if (_reading[i] is not { } m) continue;
            var key = _request.Keys[i];
            if (m.Chunks.Where(c => _failed.ContainsKey(c.Id)).Select(c => _failed[c.Id]).FirstOrDefault() is { } failure)
            {
                _outcomes[i] = new SmallGetOutcome(key, null, default, false, new StoreError(failure.Code, $"{_request.Bucket}/{key}: {failure.Message}"));
                continue;
            }
            _outcomes[i] = Whole(m) is { } data
                ? new SmallGetOutcome(key, ObjectInfos.Of(m), data, true, null)
                : new SmallGetOutcome(key, null, default, false,
                    new StoreError(StoreErrorCode.Corrupt, $"{_request.Bucket}/{key}: its chunks do not add up to the object's SHA-256"));
        }
        Answer();
    }

    /// <summary>The object's bytes from its chunks, or null when they do not hash to the object's SHA-256.</summary>
    private ReadOnlyMemory<byte>? Whole(ObjectManifest m)
    {
        // A one-chunk object's hash is its chunk's id, which the reader has just checked: not hashed again.
        if (m.Chunks is [var only] && only.Id == m.Sha256) return _chunks[only.Id];
        var data = new byte[m.Size];
        var at = 0;
        foreach (var c in m.Chunks)
        {
            _chunks[c.Id].Span.CopyTo(data.AsSpan(at));
            at += c.Length;
        }
        return ContentHash.Compute(data) == m.Sha256 ? data : null;
    }

    private void Answer()
    {
        _client.Tell(new SmallObjectsFound(_outcomes.Select(o => o!).ToList()));
        Context.Stop(Self);
    }
}
