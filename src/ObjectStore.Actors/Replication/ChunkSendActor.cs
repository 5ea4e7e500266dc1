using Akka.Actor;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Transfer;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.ChunkStorageProtocol;

namespace ObjectStore.Actors.Replication;

/// <summary>
/// Serves one chunk another node asked for: reads it through the chunk reader (which verifies it, and
/// quarantines it if it is corrupt — unless the fetcher checks it, <see cref="FetchChunk.FetcherChecks"/>)
/// and sends it whole on a data connection to the route the fetcher handed out (<see cref="OutgoingChunkBody"/>),
/// or as parts through a <see cref="WindowedSender"/> when it gave none.
/// </summary>
internal sealed class ChunkSendActor : WireActor
{
    private readonly FetchChunk _fetch;
    private readonly IActorRef _reader;
    private readonly StoreSettings _settings;
    private WindowedSender? _sender;
    private OutgoingChunkBody? _body;
    private ReadOnlyMemory<byte> _data;

    public ChunkSendActor(FetchChunk fetch, IActorRef reader, StoreSettings settings)
    {
        _fetch = fetch;
        _reader = reader;
        _settings = settings;

        Receive<ChunkRead>(m =>
        {
            // A pooled read goes back when the send ends (OutgoingChunkBody disposes the lease).
            if (m.Lease is not null && _fetch.Route is { } route) _body = new OutgoingChunkBody(Context.System, route, m.Data, m.Lease, Self);
            else
            {
                _data = m.Detach();
                SendParts();
            }
        });
        Receive<OutgoingChunkBody.Sent>(_ =>
        {
            // The fetcher reads exactly the chunk's length off the connection: the next body may follow at once.
            _body!.Finish(whole: true);
            Context.Stop(Self);
        });
        Receive<OutgoingChunkBody.Failed>(m =>
        {
            _body!.Finish(whole: false);
            // The pooled bytes went back with the send: read the chunk again, as an array the parts may hold on to.
            if (m.Unreachable) _reader.Tell(new ReadChunk(_fetch.Id, Verify: !_fetch.FetcherChecks));
            else
            {
                _fetch.Receiver.Tell(new TransferFailed(_fetch.TransferId, StoreErrorCode.Unavailable, $"the data connection broke: {m.Reason}"));
                Context.Stop(Self);
            }
        });
        Receive<StoreError>(m =>
        {
            _fetch.Receiver.Tell(new TransferFailed(_fetch.TransferId, m.Code, m.Message));
            Context.Stop(Self);
        });
        Receive<ChunkPartAck>(m => m.TransferId == _fetch.TransferId && _sender is not null, m =>
        {
            _sender!.AcknowledgeBytes(m.Received);
            if (_sender.Complete) Context.Stop(Self);
            else _sender.Pump();
        });
        Receive<Terminated>(_ => Context.Stop(Self));
        Receive<ReceiveTimeout>(_ => Context.Stop(Self));
    }

    public static Props Props(FetchChunk fetch, IActorRef reader, StoreSettings settings) =>
        ActorProps.Of(() => new ChunkSendActor(fetch, reader, settings));

    protected override void PreStart()
    {
        Context.Watch(_fetch.Receiver);
        Context.SetReceiveTimeout(_settings.Replication.TransferTimeout);
        _reader.Tell(new ReadChunk(_fetch.Id, Verify: !_fetch.FetcherChecks, Pooled: _fetch.Route is not null));
    }

    protected override void PostStop()
    {
        _sender?.Close();
        _body?.Finish(whole: false);
    }

    private void SendParts()
    {
        _sender = new WindowedSender(new ArrayQueueSource(_data), _settings.FrameSize, _settings.Replication.Window,
            (_, offset, data) => _fetch.Receiver.Tell(new ChunkPart(_fetch.TransferId, (int)offset, data)), _settings.Replication.TransferTimeout);
        _sender.Pump();
    }
}
