using Akka.Actor;
using Akka.Event;
using ObjectStore.Actors.Protocol;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;
using static ObjectStore.Actors.Protocol.ReplicaProtocol;
using static ObjectStore.Actors.Storage.ChunkStorageProtocol;

namespace ObjectStore.Actors.Replication;

/// <summary>
/// Receives one chunk pushed by another node: acknowledges each part as it arrives (the sender's window
/// is the flow control), verifies the whole against its id, has the chunk keeper make it durable
/// (kept for the sender's put), and only then tells the sender it is durable.
/// </summary>
internal sealed class ChunkReceiveActor : WireActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly OfferChunk _offer;
    private readonly IActorRef _sender;
    private readonly IActorRef _keeper;
    private readonly TimeSpan _timeout;
    private readonly ChunkAssembly _assembly;

    public ChunkReceiveActor(OfferChunk offer, IActorRef sender, IActorRef keeper, TimeSpan timeout)
    {
        _offer = offer;
        _sender = sender;
        _keeper = keeper;
        _timeout = timeout;
        _assembly = new ChunkAssembly(offer.Id, offer.Length);

        Receive<ChunkPart>(m => m.TransferId == _offer.TransferId, HandlePart);
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

    public static Props Props(OfferChunk offer, IActorRef sender, IActorRef keeper, TimeSpan timeout) =>
        Akka.Actor.Props.Create(() => new ChunkReceiveActor(offer, sender, keeper, timeout));

    protected override void PreStart()
    {
        Context.Watch(_sender);
        Context.SetReceiveTimeout(_timeout);
        _sender.Tell(new SendChunk(_offer.TransferId, Self));
    }

    protected override void PostStop() => _assembly.Dispose();

    private void HandlePart(ChunkPart m)
    {
        if (_assembly.Add(m.Offset, m.Data.Span) is { } refused)
        {
            Fail(StoreErrorCode.InvalidRequest, $"chunk {_offer.Id.ToShortString()}: {refused}");
            return;
        }
        Sender.Tell(new ChunkPartAck(_offer.TransferId, _assembly.Received));
        if (!_assembly.Complete) return;
        if (_assembly.TakeVerified() is not { } verified)
        {
            Fail(StoreErrorCode.Corrupt, $"chunk {_offer.Id.ToShortString()}: the bytes received do not hash to the chunk's id; not stored");
            return;
        }
        _keeper.Tell(new StoreChunk(_offer.Id, verified, _offer.UploadId));
    }

    private void Fail(StoreErrorCode code, string reason)
    {
        _log.Warning("refusing chunk from {0}: {1}", _sender.Path.Address, reason);
        _sender.Tell(new TransferFailed(_offer.TransferId, code, reason));
        Context.Stop(Self);
    }
}
