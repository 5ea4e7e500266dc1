using Akka.Actor;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Transfer;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.ChunkStorageProtocol;

namespace ObjectStore.Actors.Replication;

/// <summary>
/// Serves one chunk another node asked for without a data connection (the fetcher has no data plane, or its port
/// cannot be reached; with one, <see cref="FetchOnReadingThread"/> serves it): reads it through the chunk reader
/// (which verifies it, and quarantines it if it is corrupt — unless the fetcher checks it,
/// <see cref="FetchChunk.FetcherChecks"/>) and sends it as parts through a <see cref="WindowedSender"/>, paced by
/// the fetcher's acknowledgements.
/// </summary>
internal sealed class ChunkSendActor : WireActor
{
    private readonly FetchChunk _fetch;
    private readonly IActorRef _reader;
    private readonly StoreSettings _settings;
    private WindowedSender? _sender;

    public ChunkSendActor(FetchChunk fetch, IActorRef reader, StoreSettings settings)
    {
        _fetch = fetch;
        _reader = reader;
        _settings = settings;

        Receive<ChunkRead>(m => SendParts(m.Detach()));
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
        _reader.Tell(new ReadChunk(_fetch.Id, Verify: !_fetch.FetcherChecks));
    }

    protected override void PostStop() => _sender?.Close();

    private void SendParts(ReadOnlyMemory<byte> chunk)
    {
        _sender = new WindowedSender(new ArrayQueueSource(chunk), _settings.FrameSize, _settings.Replication.Window,
            (_, offset, data) => _fetch.Receiver.Tell(new ChunkPart(_fetch.TransferId, (int)offset, data)), _settings.Replication.TransferTimeout);
        _sender.Pump();
    }
}
