using Akka.Actor;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Chunking;
using ObjectStore.Core.Hashing;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;
using static ObjectStore.Actors.Protocol.ReplicaProtocol;

namespace ObjectStore.Actors.Replication;

/// <summary>Ask the replicator to make a chunk durable on another node. Replied to with <see cref="PushDone"/>.</summary>
/// <param name="Buffer">A reference of its own for the replicator, which disposes it when the push ends.</param>
public sealed record PushChunk(long RequestId, ContentHash Id, ChunkBuffer Buffer, RingMember Target, string UploadId) : Storage.StorageProtocol.ILocalMessage;
/// <param name="AlreadyThere">The target had the chunk; no bytes were sent.</param>
public sealed record PushDone(long RequestId, bool Durable, bool AlreadyThere, string? Reason) : Storage.StorageProtocol.ILocalMessage;

/// <summary>
/// One attempt to push one chunk to one node: offer it, send it as parts within a window, wait until
/// the receiver says it is durable. Any failure — no answer, the peer gone, the receiver's refusal or
/// disk error — throws, and the backoff supervisor above starts a fresh attempt later.
/// </summary>
internal sealed class ChunkPushActor : WireActor
{
    public sealed class TransferFailedException(string message) : Exception(message);

    internal sealed record AttemptFailed(long PushId, string Reason) : Storage.StorageProtocol.ILocalMessage;
    internal sealed record AttemptSucceeded(long PushId, bool AlreadyThere) : Storage.StorageProtocol.ILocalMessage;
    private sealed record Begin : Storage.StorageProtocol.ILocalMessage
    {
        public static readonly Begin Instance = new();
    }

    private readonly PushChunk _push;
    private readonly long _pushId;
    private readonly IActorRef _replicator;
    private readonly StoreSettings _settings;
    private readonly long _transferId = Random.Shared.NextInt64(1, long.MaxValue);
    private IActorRef? _receiver;
    private int _sent;
    private int _acked;

    public ChunkPushActor(PushChunk push, long pushId, IActorRef replicator, StoreSettings settings)
    {
        _push = push;
        _pushId = pushId;
        _replicator = replicator;
        _settings = settings;

        Receive<Begin>(_ => Start());
        Receive<ChunkPresent>(m => m.TransferId == _transferId, _ => Succeed(alreadyThere: true));
        Receive<SendChunk>(m => m.TransferId == _transferId && _receiver is null, m =>
        {
            _receiver = m.Receiver;
            Context.Watch(_receiver);
            Pump();
        });
        Receive<ChunkPartAck>(m => m.TransferId == _transferId, m =>
        {
            _acked = Math.Max(_acked, Math.Min(m.Received, _sent));
            Pump();
        });
        Receive<ChunkDurable>(m => m.TransferId == _transferId, _ => Succeed(alreadyThere: false));
        Receive<TransferFailed>(m => m.TransferId == _transferId, m => Fail($"{Target} refused it: {m.Reason}"));
        Receive<Terminated>(_ =>
        {
            // A receiver stops once it has sent ChunkDurable; its Terminated may overtake that message.
            if (_acked < _push.Buffer.Length) Fail($"{Target} went away during the transfer");
        });
        Receive<ReceiveTimeout>(_ => Fail($"no answer from {Target} for {_settings.Replication.TransferTimeout.TotalSeconds:0.#}s"));
    }

    public static Props Props(PushChunk push, long pushId, IActorRef replicator, StoreSettings settings) =>
        Akka.Actor.Props.Create(() => new ChunkPushActor(push, pushId, replicator, settings));

    private string Target => $"{_push.Target.NodeId} ({_push.Target.Address.Host}:{_push.Target.Address.Port})";

    // A failure thrown from PreStart would stop the actor for good (ActorInitializationException);
    // from a message handler it is a restart, which the backoff supervisor turns into a delayed retry.
    protected override void PreStart() => Self.Tell(Begin.Instance);

    private void Start()
    {
        if (((ExtendedActorSystem)Context.System).Provider is Akka.Cluster.ClusterActorRefProvider
            && Akka.Cluster.Cluster.Get(Context.System).State.Unreachable.Any(m => m.Address == _push.Target.Address))
            Fail($"{Target} is unreachable");
        Context.SetReceiveTimeout(_settings.Replication.TransferTimeout);
        ClusterRing.ReplicatorOf(Context, _push.Target.Address).Tell(new OfferChunk(_transferId, _push.UploadId, _push.Id, _push.Buffer.Length));
    }

    private void Pump()
    {
        if (_receiver is null) return;
        var window = _settings.Replication.Window * _settings.FrameSize;
        var data = _push.Buffer.Memory;
        // Parts point into the pooled chunk buffer, which the replicator keeps until this push is over.
        // Should a part still queued for the network outlive it (a push abandoned mid-way), the receiver
        // sees bytes that do not hash to the chunk's id and refuses them.
        while (_sent < data.Length && _sent - _acked < window)
        {
            var length = Math.Min(_settings.FrameSize, data.Length - _sent);
            _receiver.Tell(new ChunkPart(_transferId, _sent, data.Slice(_sent, length)));
            _sent += length;
        }
    }

    private void Succeed(bool alreadyThere)
    {
        _replicator.Tell(new AttemptSucceeded(_pushId, alreadyThere));
        Context.Stop(Self);
    }

    private void Fail(string reason)
    {
        _replicator.Tell(new AttemptFailed(_pushId, reason));
        throw new TransferFailedException($"push of chunk {_push.Id.ToShortString()} to {reason}");
    }
}
