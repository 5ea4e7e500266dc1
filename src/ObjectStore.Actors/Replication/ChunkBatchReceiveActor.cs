using Akka.Actor;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Chunking;
using ObjectStore.Core.Hashing;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;
using static ObjectStore.Actors.Storage.ChunkStorageProtocol;

namespace ObjectStore.Actors.Replication;

/// <summary>
/// Takes one batch of small chunks another node pushed (<see cref="StoreChunks"/>): each is checked against
/// its id and handed to the chunk keeper (kept for its put; the keeper's writers make the batch durable in
/// one group commit); once every chunk has its verdict the sender hears them all in one ChunksStored. A chunk
/// that does not hash to its id, or that the disk refuses, fails alone.
/// </summary>
internal sealed class ChunkBatchReceiveActor : ReceiveActor
{
    private readonly StoreChunks _batch;
    private readonly IActorRef _sender;
    private readonly IActorRef _keeper;
    private readonly TimeSpan _timeout;
    private readonly Dictionary<ContentHash, string?> _verdicts = new();
    private readonly Dictionary<ContentHash, StoreErrorCode> _codes = new();
    private int _waiting;

    public ChunkBatchReceiveActor(StoreChunks batch, IActorRef sender, IActorRef keeper, TimeSpan timeout)
    {
        (_batch, _sender, _keeper, _timeout) = (batch, sender, keeper, timeout);
        Receive<ChunkStored>(m => Verdict(m.Id, null, StoreErrorCode.StorageFailure));
        Receive<ChunkStoreFailed>(m => Verdict(m.Id, m.Reason, m.Code));
        // The keeper did not answer in time: what is not known to be durable is not reported durable.
        Receive<ReceiveTimeout>(_ =>
        {
            foreach (var c in _batch.Chunks.Where(c => !_verdicts.ContainsKey(c.Id)))
                Verdict(c.Id, $"the disk did not answer for {_timeout.TotalSeconds:0.#}s", StoreErrorCode.Timeout);
        });
    }

    public static Props Props(StoreChunks batch, IActorRef sender, IActorRef keeper, TimeSpan timeout) =>
        ActorProps.Of(() => new ChunkBatchReceiveActor(batch, sender, keeper, timeout));

    protected override void PreStart()
    {
        Context.SetReceiveTimeout(_timeout);
        foreach (var chunk in _batch.Chunks)
        {
            if (_verdicts.ContainsKey(chunk.Id) || _codes.ContainsKey(chunk.Id)) continue; // the same chunk twice: one write, one verdict
            if (chunk.Data.Length is < 1 or > StoreChunks.SmallChunkLimit || chunk.UploadId.Length is 0 or > 64)
            {
                Refuse(chunk.Id, $"chunk of {chunk.Data.Length} bytes for upload '{chunk.UploadId}' does not belong in a batch", StoreErrorCode.InvalidRequest);
                continue;
            }
            if (ContentHash.Compute(chunk.Data.Span) != chunk.Id)
            {
                Refuse(chunk.Id, $"chunk {chunk.Id.ToShortString()}: the bytes received do not hash to the chunk's id; not stored", StoreErrorCode.Corrupt);
                continue;
            }
            var buffer = ChunkBuffer.Rent(chunk.Data.Length);
            buffer.Append(chunk.Data.Span);
            _codes[chunk.Id] = StoreErrorCode.StorageFailure;
            _waiting++;
            _keeper.Tell(new StoreChunk(chunk.Id, buffer, chunk.UploadId));
        }
        AnswerWhenDone();
    }

    private void Refuse(ContentHash id, string reason, StoreErrorCode code)
    {
        _verdicts[id] = reason;
        _codes[id] = code;
    }

    private void Verdict(ContentHash id, string? failure, StoreErrorCode code)
    {
        if (_verdicts.ContainsKey(id) || !_codes.ContainsKey(id)) return;
        _verdicts[id] = failure;
        _codes[id] = code;
        _waiting--;
        AnswerWhenDone();
    }

    private void AnswerWhenDone()
    {
        if (_waiting > 0) return;
        _sender.Tell(new ChunksStored(_batch.TransferId, _batch.Chunks.Select(c => new ChunkOutcome(c.Id, _verdicts[c.Id], _codes[c.Id])).ToList()));
        Context.Stop(Self);
    }
}
