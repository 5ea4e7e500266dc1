using Akka.Actor;
using Microsoft.Win32.SafeHandles;
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
/// Into files (<see cref="GetSmallObjects.IntoFiles"/>, a client on this machine): the client hands over a temp
/// file per key, and each object is written into its file instead of the reply (up to
/// <see cref="GetSmallObjects.FileBatchBytes"/> in all), its chunks checked against their ids as in a handed-over
/// get (<see cref="FileDownloadSink"/>); the lookup and the reads start while the files are on their way.
/// </summary>
internal sealed class SmallGetBatchActor : ReceiveActor
{
    private sealed record Looked(IReadOnlyList<object> Versions) : ILocalMessage;
    private sealed record ChunkAnswer(ContentHash Id, object Reply) : ILocalMessage;
    private sealed record FilesWritten(IReadOnlyDictionary<int, string> Failures) : ILocalMessage;

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
    private bool _read;
    // Into files: the token the client hands its files over with, the files once they came, and who to answer
    // (the sender of FilesHandedOver) once the client said it handed them over.
    private readonly HandedOverFiles? _handedOver;
    private IActorRef? _answerTo;

    public SmallGetBatchActor(StoreSettings settings, string nodeId, IActorRef chunkReader, IActorRef client, GetSmallObjects request,
        Task<IReadOnlyList<object>> lookup, DataPlane? intoFiles = null)
    {
        (_settings, _nodeId, _chunkReader, _client, _request) = (settings, nodeId, chunkReader, client, request);
        if (intoFiles is not null)
        {
            _handedOver = new HandedOverFiles(intoFiles, Self, request.Keys.Count);
            client.Tell(new FilesReady(Self, _handedOver.SocketName, _handedOver.Token));
        }
        _outcomes = new SmallGetOutcome?[request.Keys.Count];
        _reading = new ObjectManifest?[request.Keys.Count];
        lookup.PipeTo(Self, success: v => new Looked(v),
            failure: e => new Looked(request.Keys.Select(_ => (object)new StoreError(StoreErrorCode.Unavailable, $"lookup failed ({e.GetType().Name})")).ToList()));

        Receive<Looked>(m => Read(m.Versions));
        Receive<ChunkAnswer>(m =>
        {
            if (m.Reply is ChunkRead read) _chunks[m.Id] = read.Detach();
            else _failed[m.Id] = m.Reply as StoreError ?? new StoreError(StoreErrorCode.Unavailable, $"chunk {m.Id.ToShortString()}: no answer");
            if (--_chunksPending == 0) ReadDone();
        });
        Receive<LocalFilesOpened>(m => _handedOver?.Take(m.Files));
        Receive<DataConnectionOpened>(m => m.Client.Dispose()); // the token is for a hand-over only
        Receive<FilesHandedOver>(_ =>
        {
            // One go-ahead per batch: another (a retry, a forged one) would take the answer or write the files again.
            if (_answerTo is not null) return;
            _answerTo = Sender;
            if (_handedOver?.Files is null)
            {
                // The client says it handed them over and the plane accepted nothing with this token: refused, the token
                // forgotten first, so that a hand-over after the answer is refused too.
                _handedOver?.Dispose();
                Sender.Tell(new StoreError(StoreErrorCode.InvalidRequest, "the node took no files for this batch of gets; nothing was written"));
                Context.Stop(Self);
                return;
            }
            if (_read) Assemble();
        });
        Receive<FilesWritten>(m =>
        {
            for (var i = 0; i < _outcomes.Length; i++)
                if (_reading[i] is { } manifest && _outcomes[i] is null)
                    _outcomes[i] = m.Failures.TryGetValue(i, out var reason)
                        ? new SmallGetOutcome(_request.Keys[i], null, default, false,
                            new StoreError(StoreErrorCode.InvalidRequest, $"{_request.Bucket}/{_request.Keys[i]}: {FileDownloadSink.ClientFileFailure}{reason}"))
                        : new SmallGetOutcome(_request.Keys[i], ObjectInfos.Of(manifest), default, false, null, InFile: true);
            Answer();
        });
        Receive<CancelTransfer>(_ => Context.Stop(Self));
        Receive<ReceiveTimeout>(_ =>
        {
            if (_handedOver is not null && _answerTo is null)
            {
                Context.Stop(Self); // the client never came back for its answer
                return;
            }
            for (var i = 0; i < _outcomes.Length; i++)
                _outcomes[i] ??= new SmallGetOutcome(_request.Keys[i], null, default, false,
                    new StoreError(StoreErrorCode.Timeout, $"{_request.Bucket}/{_request.Keys[i]}: not read within {_settings.RequestTimeout.TotalSeconds:0}s"));
            Answer();
        });
    }

    public static Props Props(StoreSettings settings, string nodeId, IActorRef chunkReader, IActorRef client, GetSmallObjects request,
        Task<IReadOnlyList<object>> lookup, DataPlane? intoFiles = null) =>
        ActorProps.Of(() => new SmallGetBatchActor(settings, nodeId, chunkReader, client, request, lookup, intoFiles));

    protected override void PreStart() => Context.SetReceiveTimeout(_settings.RequestTimeout);

    protected override void PostStop() => _handedOver?.Dispose();

    /// <summary>Every chunk has been read or has failed: the answer is put together once the client's files are here (into files).</summary>
    private void ReadDone()
    {
        _read = true;
        if (_handedOver is null || _answerTo is not null) Assemble();
    }

    private void Read(IReadOnlyList<object> versions)
    {
        // The reply holds the objects' bytes and, for every key, its info or error: together at most a frame;
        // written into files, the bytes the node holds for the batch at once.
        long budget = _handedOver is not null ? GetSmallObjects.FileBatchBytes : _settings.FrameSize - _request.Keys.Sum(SmallBatches.KeyCost);
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
            ReadDone();
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

    /// <summary>Every chunk has been read or has failed: each object is put together and checked whole, or written into its file.</summary>
    private void Assemble()
    {
        for (var i = 0; i < _reading.Length; i++)
        {
            if (_reading[i] is not { } m) continue;
            var key = _request.Keys[i];
            if (m.Chunks.Where(c => _failed.ContainsKey(c.Id)).Select(c => _failed[c.Id]).FirstOrDefault() is { } failure)
                _outcomes[i] = new SmallGetOutcome(key, null, default, false, new StoreError(failure.Code, $"{_request.Bucket}/{key}: {failure.Message}"));
        }
        if (_handedOver?.Files is not null)
        {
            WriteFiles();
            return;
        }
        for (var i = 0; i < _reading.Length; i++)
        {
            if (_reading[i] is not { } m || _outcomes[i] is not null) continue;
            var key = _request.Keys[i];
            _outcomes[i] = Whole(m) is { } data
                ? new SmallGetOutcome(key, ObjectInfos.Of(m), data, true, null)
                : new SmallGetOutcome(key, null, default, false,
                    new StoreError(StoreErrorCode.Corrupt, $"{_request.Bucket}/{key}: its chunks do not add up to the object's SHA-256"));
        }
        Answer();
    }

    /// <summary>
    /// Writes every readable object into its file, chunk by chunk at its offset, on a background task (page-cache
    /// writes of up to <see cref="GetSmallObjects.FileBatchBytes"/>, not the dispatcher's to wait for); a file that does
    /// not take its bytes (the client's disk full) fails its object alone.
    /// </summary>
    private void WriteFiles()
    {
        var writes = new List<(int Index, SafeFileHandle File, ObjectManifest Manifest)>();
        for (var i = 0; i < _reading.Length; i++)
            if (_reading[i] is { } m && _outcomes[i] is null) writes.Add((i, _handedOver!.Files![i], m));
        var chunks = _chunks;
        Task.Run<object>(() =>
        {
            var failures = new Dictionary<int, string>();
            foreach (var (index, file, manifest) in writes)
            {
                try
                {
                    long offset = 0;
                    foreach (var c in manifest.Chunks)
                    {
                        RandomAccess.Write(file, chunks[c.Id].Span, offset);
                        offset += c.Length;
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
                {
                    failures[index] = e.Message;
                }
            }
            return new FilesWritten(failures);
        }).PipeTo(Self);
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
        (_answerTo ?? _client).Tell(new SmallObjectsFound(_outcomes.Select(o => o!).ToList()));
        Context.Stop(Self);
    }
}
