using Akka.Actor;
using Akka.Event;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Transfer;
using ObjectStore.Core.Hashing;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;
using static ObjectStore.Actors.Storage.ChunkStorageProtocol;

namespace ObjectStore.Actors.Replication;

/// <summary>
/// Where other nodes send chunks and ask for them (<c>/user/chunks</c>, the chunk transfer protocol). An
/// offered chunk is claimed from the chunk keeper (kept for its put from now on): one durable here already
/// is answered ChunkPresent and not sent; else a <see cref="ChunkReceiveActor"/> takes the parts. Small
/// chunks pushed together go to one <see cref="ChunkBatchReceiveActor"/> per batch. At most
/// <see cref="ReplicationSettings.MaxIncomingTransfers"/> are received at once; more are refused, and their
/// senders retry. A fetch is served from the chunk reader's thread (<see cref="FetchOnReadingThread"/>), or by a
/// <see cref="ChunkSendActor"/> when it goes as parts; a fetcher whose body did not match its
/// id has this node check its copy (CheckChunk).
/// </summary>
public sealed class ChunkEndpoint : WireActor, IWithTimers
{
    public const string Name = "chunks";

    private readonly StoreSettings _settings;
    private readonly IActorRef _keeper;
    private readonly IActorRef _reader;
    private readonly DataLinks _links;
    private int _incoming;
    private readonly HashSet<IActorRef> _receivers = [];
    private readonly Dictionary<ContentHash, Queue<(OfferChunk Offer, IActorRef Sender, DateTime Asked)>> _claims = new();

    public ITimerScheduler Timers { get; set; } = null!;

    private sealed record ExpireClaims : ILocalMessage
    {
        public static readonly ExpireClaims Instance = new();
    }

    public ChunkEndpoint(StoreSettings settings, IActorRef keeper, IActorRef reader)
    {
        _settings = settings;
        _keeper = keeper;
        _reader = reader;
        _links = DataLinks.Of(Context.System);

        Receive<OfferChunk>(HandleOffer);
        Receive<StoreChunks>(HandleBatch);
        Receive<ChunkClaim>(HandleClaim);
        Receive<Terminated>(m => _receivers.Remove(m.ActorRef), _ => _incoming--);
        Receive<FetchChunk>(HandleFetch);
        Receive<FetchOnReadingThread.SendAsParts>(m => Context.ActorOf(ChunkSendActor.Props(m.Fetch with { Route = null }, _reader, _settings)));
        // Only a bug in FetchOnReadingThread gets a read's failure here rather than to its fetcher, which then times out.
        Receive<StoreProtocol.StoreError>(m => Context.GetLogger().Warning("serving a fetch failed: {0}", m.Message));
        Receive<CheckChunk>(HandleCheck);
        Receive<WhichChunks>(m => _keeper.Forward(m));
        Receive<ExpireClaims>(_ => DropUnansweredClaims());
    }

    public static Props Props(StoreSettings settings, IActorRef keeper, IActorRef reader) =>
        ActorProps.Of(() => new ChunkEndpoint(settings, keeper, reader));

    protected override void PreStart()
    {
        var every = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(100).Ticks, _settings.Replication.TransferTimeout.Ticks / 2));
        Timers.StartPeriodicTimer(nameof(ExpireClaims), ExpireClaims.Instance, every);
    }

    /// <summary>
    /// A fetch with a data route is read on a chunk reader's thread and sent from there (<see cref="FetchOnReadingThread"/>); one
    /// without (the fetcher has no data plane) goes as parts over Akka.Remote, paced by its acknowledgements.
    /// </summary>
    private void HandleFetch(FetchChunk m)
    {
        if (m.Route is not null) _reader.Tell(FetchOnReadingThread.Read(m, _links, _settings.Replication.TransferTimeout, Self));
        else Context.ActorOf(ChunkSendActor.Props(m, _reader, _settings));
    }

    /// <summary>Reads the copy again, checked (the store quarantines a corrupt one), and tells the fetcher what it found.</summary>
    private void HandleCheck(CheckChunk m)
    {
        var receiver = m.Receiver;
        _reader.Ask<object>(new ReadChunk(m.Id), _settings.Replication.TransferTimeout).PipeTo(receiver,
            success: reply =>
            {
                if (reply is not ChunkRead read) return reply is StoreProtocol.StoreError e ? new TransferFailed(m.TransferId, e.Code, e.Message)
                    : new TransferFailed(m.TransferId, StoreErrorCode.StorageFailure, $"cannot check chunk {m.Id.ToShortString()}");
                read.Lease?.Dispose();
                return new TransferFailed(m.TransferId, StoreErrorCode.Unavailable,
                    $"chunk {m.Id.ToShortString()} is whole here: its bytes were damaged on the way");
            },
            failure: e => new TransferFailed(m.TransferId, StoreErrorCode.StorageFailure, $"cannot check chunk {m.Id.ToShortString()}: {e.GetBaseException().Message}"));
    }

    private void HandleOffer(OfferChunk m)
    {
        if (!Repair.ForegroundActivity.IsRepair(m.UploadId)) Repair.ForegroundActivity.Of(Context.System).Touch();
        if (m.Length < 1 || m.Length > _settings.Chunking.LargestChunk)
        {
            Sender.Tell(new TransferFailed(m.TransferId, StoreErrorCode.InvalidRequest,
                $"chunk of {m.Length} bytes is outside 1..{_settings.Chunking.LargestChunk} (objectstore.chunking)"));
            return;
        }
        if (m.UploadId.Length is 0 or > 64)
        {
            Sender.Tell(new TransferFailed(m.TransferId, StoreErrorCode.InvalidRequest, "bad upload id"));
            return;
        }
        if (_incoming >= _settings.Replication.MaxIncomingTransfers)
        {
            Sender.Tell(new TransferFailed(m.TransferId, StoreErrorCode.Unavailable, $"busy: {_incoming} transfers in progress"));
            return;
        }
        _incoming++; // reserved until the claim answers
        // Claims are answered in the order they are asked. Should the keeper be restarting and never
        // answer, the sender's attempt times out and is retried.
        if (!_claims.TryGetValue(m.Id, out var waiting)) _claims[m.Id] = waiting = new Queue<(OfferChunk, IActorRef, DateTime)>();
        waiting.Enqueue((m, Sender, DateTime.UtcNow));
        _keeper.Tell(new ClaimChunk(m.Id, m.UploadId));
    }

    /// <summary>Small chunks pushed together: one receiver (and one incoming-transfer slot) for the whole batch.</summary>
    private void HandleBatch(StoreChunks m)
    {
        if (!m.Chunks.All(c => Repair.ForegroundActivity.IsRepair(c.UploadId))) Repair.ForegroundActivity.Of(Context.System).Touch();
        if (_incoming >= _settings.Replication.MaxIncomingTransfers)
        {
            Sender.Tell(new ChunksStored(m.TransferId,
                m.Chunks.Select(c => new ChunkOutcome(c.Id, $"busy: {_incoming} transfers in progress", StoreErrorCode.Unavailable)).ToList()));
            return;
        }
        _incoming++;
        var receiver = Context.ActorOf(ChunkBatchReceiveActor.Props(m, Sender, _keeper, _settings.Replication.TransferTimeout));
        Context.Watch(receiver);
        _receivers.Add(receiver);
    }

    private void HandleClaim(ChunkClaim m)
    {
        if (!_claims.TryGetValue(m.Id, out var waiting) || !waiting.TryDequeue(out var claim)) return;
        if (waiting.Count == 0) _claims.Remove(m.Id);
        if (m.Present)
        {
            _incoming--;
            claim.Sender.Tell(new ChunkPresent(claim.Offer.TransferId));
            return;
        }
        var receiver = Context.ActorOf(ChunkReceiveActor.Props(claim.Offer, claim.Sender, _keeper, _settings.Replication.TransferTimeout,
            _settings.Chunking.Kernel));
        Context.Watch(receiver);
        _receivers.Add(receiver);
    }

    /// <summary>
    /// Claims a restarting keeper never answered: their senders have given up (and retry), and the slots
    /// they reserved must come back, or the node would end up refusing every transfer.
    /// </summary>
    private void DropUnansweredClaims()
    {
        var cutoff = DateTime.UtcNow - _settings.Replication.TransferTimeout;
        foreach (var id in _claims.Keys.ToList())
        {
            var waiting = _claims[id];
            while (waiting.TryPeek(out var claim) && claim.Asked < cutoff)
            {
                waiting.Dequeue();
                _incoming--;
            }
            if (waiting.Count == 0) _claims.Remove(id);
        }
    }
}
