using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Replication;
using ObjectStore.Core.Chunking;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;
using ObjectStore.Core.Validation;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.ChunkStorageProtocol;
using static ObjectStore.Actors.Storage.IndexProtocol;

namespace ObjectStore.Actors.Transfer.Upload;

/// <summary>
/// The node's side of a batch of small puts (<see cref="PutSmallObjects"/>): each object is one chunk
/// (hashed here; its id is also the object's hash), every chunk goes to one <see cref="ChunkDistributor"/>
/// at once — which sends each peer its share in one message and the keeper's writers make them durable in
/// one group commit —, and once the chunks have their verdicts the objects whose chunk holds are committed
/// together (one CommitReplicas per node, one index transaction there). Each object ends on its own: stored
/// whole, or failed with its reason and nothing of it visible; the client hears every outcome in one reply.
/// </summary>
public sealed class SmallPutBatchActor : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly UploadContext _node;
    private readonly IActorRef _client;
    private readonly IReadOnlyList<PutSmallObject> _objects;
    private readonly bool _aloneOk;
    private readonly SmallPutOutcome?[] _outcomes;
    private readonly ContentHash[] _hashes;
    private readonly long[] _newBytes;
    /// <summary>Each distinct chunk of the batch: the put that pins it (its own upload id) and the objects made of it.</summary>
    private readonly Dictionary<ContentHash, (string UploadId, List<int> Objects)> _chunks = new();
    private readonly long _startedTicks = Stopwatch.GetTimestamp();
    private IActorRef _distributor = ActorRefs.Nobody;
    private int _chunksPending;
    /// <summary>The objects sent to be committed, by their place in the commit list.</summary>
    private List<int> _committing = [];

    public SmallPutBatchActor(UploadContext node, IActorRef client, PutSmallObjects request)
    {
        (_node, _client, _objects, _aloneOk) = (node, client, request.Objects, request.AloneOk);
        _outcomes = new SmallPutOutcome?[_objects.Count];
        _hashes = new ContentHash[_objects.Count];
        _newBytes = new long[_objects.Count];

        Receive<ChunkStored>(m => ChunkDone(m.Id, m.Written ? m.Length : 0, null, default));
        Receive<ChunkStoreFailed>(m => ChunkDone(m.Id, 0, m.Reason, m.Code));
        Receive<DistributorCommit.BatchOutcome>(m =>
        {
            var i = _committing[m.Index];
            var o = _objects[i];
            _outcomes[i] = m.Outcome switch
            {
                ObjectCommitted c => new SmallPutOutcome(o.Bucket, o.Key,
                    new PutCompleted(ObjectInfos.Of(c.Manifest), _newBytes[i], c.Copies, c.Factor, c.Queued), null),
                StoreError e => new SmallPutOutcome(o.Bucket, o.Key, null, e),
                _ => Failed(i, StoreErrorCode.Unavailable, $"unexpected outcome {m.Outcome.GetType().Name}; it may or may not be stored"),
            };
            AnswerWhenDone();
        });
        Receive<ReceiveTimeout>(_ =>
        {
            for (var i = 0; i < _objects.Count; i++)
                _outcomes[i] ??= Failed(i, StoreErrorCode.Timeout, _committing.Contains(i)
                    ? $"no verdict from the cluster for {Settings.IdleTimeout.TotalSeconds:0}s while committing; it may or may not be stored"
                    : $"no progress for {Settings.IdleTimeout.TotalSeconds:0}s (storage stalled); nothing was stored");
            AnswerWhenDone();
        });
    }

    public static Props Props(UploadContext node, IActorRef client, PutSmallObjects request) =>
        ActorProps.Of(() => new SmallPutBatchActor(node, client, request));

    private StoreSettings Settings => _node.Settings;

    protected override void PreStart()
    {
        Context.SetReceiveTimeout(Settings.IdleTimeout);
        var batch = new List<StoreChunk>();
        for (var i = 0; i < _objects.Count; i++)
        {
            var o = _objects[i];
            Metrics.StoreMetrics.BytesIn.Add(o.Data.Length);
            if ((BucketName.Check(o.Bucket) ?? ObjectKey.Check(o.Key)) is { } problem)
            {
                _outcomes[i] = Failed(i, StoreErrorCode.InvalidRequest, $"{problem}; nothing was stored");
                continue;
            }
            if (o.Data.Length > Settings.Chunking.SingleChunkLimit)
            {
                _outcomes[i] = _aloneOk
                    ? new SmallPutOutcome(o.Bucket, o.Key, null, null, Alone: true)
                    : Failed(i, StoreErrorCode.InvalidRequest,
                        $"{o.Data.Length} bytes is more than one chunk ({Settings.Chunking.SingleChunkLimit} bytes here): put it on its own; nothing was stored");
                continue;
            }
            _hashes[i] = ContentHash.Compute(o.Data.Span);
            if (o.Data.Length == 0) continue;
            if (_chunks.TryGetValue(_hashes[i], out var same))
            {
                same.Objects.Add(i);
                continue;
            }
            var upload = ObjectManifest.NewVersionId();
            _chunks[_hashes[i]] = (upload, [i]);
            batch.Add(new StoreChunk(_hashes[i], ChunkBuffer.CopyOf(o.Data.Span), upload));
        }
        _chunksPending = batch.Count;
        var ring = ClusterRing.Current(Context.System, _node.NodeId);
        _distributor = Context.ActorOf(ChunkDistributor.Props(Settings, _node.Keeper, _node.Pushes, ring, $"batch-{ObjectManifest.NewVersionId()}"), "distributor");
        if (batch.Count > 0) _distributor.Tell(new StoreChunkBatch(batch));
        else Commit();
    }

    protected override void PostStop()
    {
        foreach (var (upload, _) in _chunks.Values) _node.Keeper.Tell(new ReleaseUpload(upload));
    }

    private void ChunkDone(ContentHash id, long written, string? failure, StoreErrorCode code)
    {
        if (!_chunks.TryGetValue(id, out var chunk)) return;
        if (failure is null) _newBytes[chunk.Objects[0]] = written;
        else
            foreach (var i in chunk.Objects)
                _outcomes[i] = Failed(i, code, $"{failure}; nothing was stored");
        if (--_chunksPending == 0) Commit();
    }

    /// <summary>Every chunk has its verdict: the objects whose chunk holds are committed together.</summary>
    private void Commit()
    {
        _committing = Enumerable.Range(0, _objects.Count).Where(i => _outcomes[i] is null).ToList();
        if (_committing.Count == 0)
        {
            AnswerWhenDone();
            return;
        }
        var now = DateTimeOffset.UtcNow;
        _distributor.Tell(new CommitObjects(_committing.Select(i =>
        {
            var o = _objects[i];
            var chunks = o.Data.Length == 0 ? [] : new List<ChunkRef> { new(_hashes[i], o.Data.Length) };
            var manifest = new ObjectManifest(o.Bucket, o.Key, ObjectManifest.NewVersionId(), o.Data.Length, _hashes[i], now, chunks, _node.NodeId, o.File);
            return new CommitObject(manifest, o.Data.Length == 0 ? $"empty-{manifest.VersionId}" : _chunks[_hashes[i]].UploadId);
        }).ToList()));
    }

    private SmallPutOutcome Failed(int i, StoreErrorCode code, string reason)
    {
        var o = _objects[i];
        return new SmallPutOutcome(o.Bucket, o.Key, null, new StoreError(code, $"put of {o.Bucket}/{o.Key} failed: {reason}"));
    }

    private void AnswerWhenDone()
    {
        if (_outcomes.Any(o => o is null)) return;
        var failed = _outcomes.Count(o => o!.Error is not null);
        Metrics.StoreMetrics.Puts.Add(_outcomes.Length - failed, new KeyValuePair<string, object?>("outcome", "ok"));
        if (failed > 0)
        {
            Metrics.StoreMetrics.Puts.Add(failed, new KeyValuePair<string, object?>("outcome", "failed"));
            _log.Warning("{0} of {1} small puts in a batch failed, the first: {2}", failed, _outcomes.Length, _outcomes.First(o => o!.Error is not null)!.Error!.Message);
        }
        var seconds = Stopwatch.GetElapsedTime(_startedTicks).TotalSeconds;
        for (var i = 0; i < _outcomes.Length - failed; i++) Metrics.StoreMetrics.PutSeconds.Record(seconds);
        _client.Tell(new SmallPutsDone(_outcomes.Select(o => o!).ToList()));
        Context.Stop(Self);
    }
}
