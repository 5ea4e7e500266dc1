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
    /// <summary>Each distinct chunk's verdict; null while the keeper has it and has not answered.</summary>
    private readonly Dictionary<ContentHash, ChunkOutcome?> _outcomes = new();

    public ChunkBatchReceiveActor(StoreChunks batch, IActorRef sender, IActorRef keeper, TimeSpan timeout)
    {
        (_batch, _sender, _keeper, _timeout) = (batch, sender, keeper, timeout);
        Receive<ChunkStored>(m => Verdict(m.Id, null, StoreErrorCode.StorageFailure, m.Written));
        Receive<ChunkStoreFailed>(m => Verdict(m.Id, m.Reason, m.Code));
        // The keeper did not answer in time: what is not known to be durable is not reported durable.
        Receive<ReceiveTimeout>(_ =>
        {
            foreach (var id in _outcomes.Where(o => o.Value is null).Select(o => o.Key).ToList())
                Verdict(id, $"the disk did not answer for {_timeout.TotalSeconds:0.#}s", StoreErrorCode.Timeout);
        });
    }

    public static Props Props(StoreChunks batch, IActorRef sender, IActorRef keeper, TimeSpan timeout) =>
        ActorProps.Of(() => new ChunkBatchReceiveActor(batch, sender, keeper, timeout));

    protected override void PreStart()
    {
        Context.SetReceiveTimeout(_timeout);
        foreach (var chunk in _batch.Chunks)
        {
            if (_outcomes.ContainsKey(chunk.Id)) continue; // the same chunk twice: one write, one verdict
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
            _outcomes[chunk.Id] = null;
            _keeper.Tell(new StoreChunk(chunk.Id, ChunkBuffer.CopyOf(chunk.Data.Span), chunk.UploadId));
        }
        AnswerWhenDone();
    }

    private void Refuse(ContentHash id, string reason, StoreErrorCode code) => _outcomes[id] = new ChunkOutcome(id, reason, code);

    /// <param name="failure">Null: durable here.</param>
    /// <param name="written">Durable and new here.</param>
    private void Verdict(ContentHash id, string? failure, StoreErrorCode code, bool written = false)
    {
        if (!_outcomes.TryGetValue(id, out var known) || known is not null) return;
        _outcomes[id] = new ChunkOutcome(id, failure, code, written);
        AnswerWhenDone();
    }

    private void AnswerWhenDone()
    {
        if (_outcomes.Values.Any(o => o is null)) return;
        _sender.Tell(new ChunksStored(_batch.TransferId, _batch.Chunks.Select(c => _outcomes[c.Id]!).ToList()));
        Context.Stop(Self);
    }
}
