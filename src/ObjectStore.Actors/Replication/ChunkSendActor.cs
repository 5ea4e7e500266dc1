using Akka.Actor;
using ObjectStore.Actors.Protocol;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;
using static ObjectStore.Actors.Protocol.ReplicaProtocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.StorageProtocol;

namespace ObjectStore.Actors.Replication;

/// <summary>
/// Serves one chunk another node asked for: reads it through the storage actor (which verifies it,
/// and quarantines it if it is corrupt) and sends it as parts within a window of unacknowledged bytes.
/// </summary>
internal sealed class ChunkSendActor : WireActor
{
    private readonly FetchChunk _fetch;
    private readonly IActorRef _storage;
    private readonly StoreSettings _settings;
    private byte[] _data = [];
    private int _sent;
    private int _acked;

    public ChunkSendActor(FetchChunk fetch, IActorRef storage, StoreSettings settings)
    {
        _fetch = fetch;
        _storage = storage;
        _settings = settings;

        Receive<ChunkRead>(m =>
        {
            _data = m.Data;
            Pump();
        });
        Receive<StoreError>(m =>
        {
            _fetch.Receiver.Tell(new TransferFailed(_fetch.TransferId, m.Code, m.Message));
            Context.Stop(Self);
        });
        Receive<ChunkPartAck>(m => m.TransferId == _fetch.TransferId, m =>
        {
            _acked = Math.Max(_acked, Math.Min(m.Received, _sent));
            if (_acked == _data.Length) Context.Stop(Self);
            else Pump();
        });
        Receive<Terminated>(_ => Context.Stop(Self));
        Receive<ReceiveTimeout>(_ => Context.Stop(Self));
    }

    public static Props Props(FetchChunk fetch, IActorRef storage, StoreSettings settings) =>
        Akka.Actor.Props.Create(() => new ChunkSendActor(fetch, storage, settings));

    protected override void PreStart()
    {
        Context.Watch(_fetch.Receiver);
        Context.SetReceiveTimeout(_settings.Replication.TransferTimeout);
        _storage.Tell(new ReadChunk(_fetch.Id));
    }

    private void Pump()
    {
        var window = _settings.Replication.Window * _settings.FrameSize;
        while (_sent < _data.Length && _sent - _acked < window)
        {
            var length = Math.Min(_settings.FrameSize, _data.Length - _sent);
            _fetch.Receiver.Tell(new ChunkPart(_fetch.TransferId, _sent, _data.AsMemory(_sent, length)));
            _sent += length;
        }
    }
}
