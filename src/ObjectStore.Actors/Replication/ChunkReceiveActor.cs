using Akka.Actor;
using Akka.Event;
using ObjectStore.Actors.Transfer;
using ObjectStore.Core.Hashing;
using ObjectStore.Actors.Protocol;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;
using static ObjectStore.Actors.Protocol.ReplicaProtocol;
using static ObjectStore.Actors.Storage.ChunkStorageProtocol;

namespace ObjectStore.Actors.Replication;

/// <summary>
/// Receives one chunk pushed by another node: acknowledges each part as it arrives (the sender's window
/// is the flow control) — or takes it whole on a data connection with the token it hands the sender —,
/// verifies the whole against its id, has the chunk keeper make it durable (kept for the sender's put),
/// and only then tells the sender it is durable.
/// </summary>
internal sealed class ChunkReceiveActor : WireActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly OfferChunk _offer;
    private readonly IActorRef _sender;
    private readonly IActorRef _keeper;
    private readonly TimeSpan _timeout;
    private readonly ChunkAssembly _assembly;
    private readonly ShaNiKernel? _kernel;
    private IncomingChunkBody? _body;
    private readonly PendingBodyCheck _check = new();

    /// <param name="kernel">Checks bodies two at a time with other pushes and fetches; null: each on its own.</param>
    public ChunkReceiveActor(OfferChunk offer, IActorRef sender, IActorRef keeper, TimeSpan timeout, ShaNiKernel? kernel)
    {
        _offer = offer;
        _sender = sender;
        _keeper = keeper;
        _timeout = timeout;
        _kernel = kernel;
        _assembly = new ChunkAssembly(offer.Id, offer.Length);

        Receive<ChunkPart>(m => m.TransferId == _offer.TransferId, HandlePart);
        Receive<DataConnectionOpened>(m =>
        {
            if (_body is null) m.Client.Dispose();
            else _body.Read(m.Client, _offer.Length, _timeout, Self);
        });
        Receive<IncomingChunkBody.Arrived>(m => _check.Start(m.Body, _offer.Id, _kernel, Self));
        Receive<PendingBodyCheck.Checked>(Store);
        Receive<IncomingChunkBody.Broke>(m => Fail(StoreErrorCode.Unavailable, $"chunk {_offer.Id.ToShortString()}: {m.Reason}; nothing kept"));
        Receive<ChunkStored>(_ =>
        {
            _sender.Tell(new ChunkDurable(_offer.TransferId));
            Context.Stop(Self);
        });
        Receive<ChunkStoreFailed>(m => Fail(m.Code, m.Reason));
        Receive<Terminated>(_ => Context.Stop(Self));
        Receive<ReceiveTimeout>(_ =>
        {
            _log.Info("chunk {0} from {1}: no part for {2}; dropped", _offer.Id.ToShortString(), _sender.Path.Address, _timeout);
            Context.Stop(Self);
        });
    }

    public static Props Props(OfferChunk offer, IActorRef sender, IActorRef keeper, TimeSpan timeout, ShaNiKernel? kernel) =>
        ActorProps.Of(() => new ChunkReceiveActor(offer, sender, keeper, timeout, kernel));

    protected override void PreStart()
    {
        Context.Watch(_sender);
        Context.SetReceiveTimeout(_timeout);
        _body = IncomingChunkBody.Expect(Context.System, Self);
        _sender.Tell(new SendChunk(_offer.TransferId, Self, _body?.Route));
    }

    protected override void PostStop()
    {
        _body?.Dispose();
        _assembly.Dispose();
        _check.Dispose();
    }

    private void HandlePart(ChunkPart m)
    {
        if (_assembly.Add(m.Offset, m.Data.Span) is { } refused)
        {
            Fail(StoreErrorCode.InvalidRequest, $"chunk {_offer.Id.ToShortString()}: {refused}");
            return;
        }
        Sender.Tell(new ChunkPartAck(_offer.TransferId, _assembly.Received));
        if (!_assembly.Complete) return;
        _check.Start(_assembly.TakeUnverified(), _offer.Id, _kernel, Self);
    }

    /// <summary>The whole chunk arrived (as parts or on a data connection) and was checked: stored only if it matches its id.</summary>
    private void Store(PendingBodyCheck.Checked m)
    {
        if (_check.Take() is not { } received) return;
        if (!m.Matches)
        {
            received.Dispose();
            Fail(m.Failure is null ? StoreErrorCode.Corrupt : StoreErrorCode.Unavailable, m.Failure is null
                ? $"chunk {_offer.Id.ToShortString()}: the bytes received do not hash to the chunk's id; not stored"
                : $"chunk {_offer.Id.ToShortString()}: could not check the bytes received ({m.Failure}); not stored");
            return;
        }
        _keeper.Tell(new StoreChunk(_offer.Id, received, _offer.UploadId));
    }

    private void Fail(StoreErrorCode code, string reason)
    {
        _log.Warning("refusing chunk from {0}: {1}", _sender.Path.Address, reason);
        _sender.Tell(new TransferFailed(_offer.TransferId, code, reason));
        Context.Stop(Self);
    }
}
