using Akka.Actor;
using ObjectStore.Actors.Protocol;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;

namespace ObjectStore.Actors.Replication;

/// <summary>
/// Ask the outgoing pushes to make several small chunks durable on one node in one message (StoreChunks).
/// Each is replied to with its own <see cref="PushDone"/>, as a single push would be.
/// </summary>
public sealed record PushChunkBatch(IReadOnlyList<PushChunk> Chunks, RingMember Target) : ILocalMessage
{
    /// <summary>Small chunks for one node in as few batches as hold at most 64 chunks and one frame of bytes each.</summary>
    public static IEnumerable<PushChunkBatch> Split(IEnumerable<PushChunk> chunks, RingMember target, int frameSize)
    {
        var group = new List<PushChunk>();
        long bytes = 0;
        foreach (var push in chunks)
        {
            if (group.Count == StoreChunks.MaxChunks || (group.Count > 0 && bytes + push.Buffer.Length > frameSize))
            {
                yield return new PushChunkBatch(group, target);
                (group, bytes) = ([], 0);
            }
            group.Add(push);
            bytes += push.Buffer.Length;
        }
        if (group.Count > 0) yield return new PushChunkBatch(group, target);
    }
}

/// <summary>
/// One attempt to push a batch of small chunks to one node: the chunks go inside one StoreChunks message
/// (no offer, no data connection: for a chunk of a few KiB the round trips would cost more than the bytes)
/// and the node answers each chunk's verdict in one ChunksStored. No answer, or the node gone, throws, and
/// the backoff supervisor above starts a fresh attempt later; a chunk the node refused is reported as such
/// (the put hands it to the next node).
/// </summary>
internal sealed class ChunkBatchPushActor : WireActor
{
    internal sealed record AttemptAnswered(long PushId, IReadOnlyList<ChunkOutcome> Outcomes) : ILocalMessage;
    private sealed record Begin : ILocalMessage
    {
        public static readonly Begin Instance = new();
    }

    private readonly PushChunkBatch _batch;
    private readonly long _pushId;
    private readonly IActorRef _pushes;
    private readonly StoreSettings _settings;
    private readonly long _transferId = Random.Shared.NextInt64(1, long.MaxValue);

    public ChunkBatchPushActor(PushChunkBatch batch, long pushId, IActorRef pushes, StoreSettings settings)
    {
        (_batch, _pushId, _pushes, _settings) = (batch, pushId, pushes, settings);
        Receive<Begin>(_ => Start());
        Receive<ChunksStored>(m => m.TransferId == _transferId, m =>
        {
            if (m.Outcomes.Count != _batch.Chunks.Count || m.Outcomes.Where((o, i) => o.Id != _batch.Chunks[i].Id).Any())
                Fail($"{Target} answered for other chunks than it was sent");
            _pushes.Tell(new AttemptAnswered(_pushId, m.Outcomes));
            Context.Stop(Self);
        });
        Receive<ReceiveTimeout>(_ => Fail($"no answer from {Target} for {_settings.Replication.TransferTimeout.TotalSeconds:0.#}s"));
    }

    public static Props Props(PushChunkBatch batch, long pushId, IActorRef pushes, StoreSettings settings) =>
        ActorProps.Of(() => new ChunkBatchPushActor(batch, pushId, pushes, settings));

    private string Target => $"{_batch.Target.NodeId} ({_batch.Target.Address.Host}:{_batch.Target.Address.Port})";

    // As in ChunkPushActor: a failure in a handler (not PreStart) is what the backoff supervisor retries.
    protected override void PreStart() => Self.Tell(Begin.Instance);

    private void Start()
    {
        if (ClusterRing.SeenUnreachable(Context.System, _batch.Target.Address)) Fail($"{Target} is unreachable");
        Context.SetReceiveTimeout(_settings.Replication.TransferTimeout);
        // The pushes hold every buffer until this push ends, after the message has long been serialized.
        ClusterRing.ChunksOf(Context, _batch.Target.Address).Tell(new StoreChunks(_transferId,
            _batch.Chunks.Select(c => new InlineChunk(c.Id, c.UploadId, c.Buffer.Memory)).ToList()));
    }

    private void Fail(string reason)
    {
        _pushes.Tell(new ChunkPushActor.AttemptFailed(_pushId, reason));
        throw new RetriedFailureException($"push of {_batch.Chunks.Count} small chunks to {reason}");
    }
}
