using Akka.Actor;
using Akka.Event;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Transfer;
using ObjectStore.Core.Chunking;
using ObjectStore.Core.Hashing;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;

namespace ObjectStore.Actors.Replication;

/// <summary>Ask the outgoing pushes to make a chunk durable on another node. Replied to with <see cref="PushDone"/>.</summary>
/// <param name="Buffer">A reference of its own for the pushes, which dispose it when the push ends.</param>
public sealed record PushChunk(long RequestId, ContentHash Id, ChunkBuffer Buffer, RingMember Target, string UploadId) : ILocalMessage;
/// <summary>The requester no longer waits for the push (a put went on without a late node): it stops, unanswered.</summary>
public sealed record CancelPush(long RequestId) : ILocalMessage;
/// <param name="AlreadyThere">The target had the chunk; no bytes were sent.</param>
/// <param name="Written">Durable and new on the target (it did not hold the chunk): what a put reports as new bytes.</param>
public sealed record PushDone(long RequestId, bool Durable, bool AlreadyThere, string? Reason, bool Written = false) : ILocalMessage;

/// <summary>
/// One attempt to push one chunk to one node: offer it, send it whole on a data connection to the route the
/// receiver hands out (<see cref="OutgoingChunkBody"/>), or as parts through a <see cref="WindowedSender"/>
/// when it hands out none, and wait until the receiver says it is durable. Any failure — no answer, the peer gone, the receiver's refusal
/// or disk error — throws, and the backoff supervisor above starts a fresh attempt later.
/// </summary>
internal sealed class ChunkPushActor : WireActor
{

    internal sealed record AttemptFailed(long PushId, string Reason) : ILocalMessage;
    internal sealed record AttemptSucceeded(long PushId, bool AlreadyThere) : ILocalMessage;
    private sealed record Begin : ILocalMessage
    {
        public static readonly Begin Instance = new();
    }

    private readonly PushChunk _push;
    private readonly long _pushId;
    private readonly IActorRef _pushes;
    private readonly StoreSettings _settings;
    private readonly long _transferId = Random.Shared.NextInt64(1, long.MaxValue);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private IActorRef? _receiver;
    private WindowedSender? _sender;
    private OutgoingChunkBody? _body;
    private bool _bodySent;

    public ChunkPushActor(PushChunk push, long pushId, IActorRef pushes, StoreSettings settings)
    {
        _push = push;
        _pushId = pushId;
        _pushes = pushes;
        _settings = settings;

        Receive<Begin>(_ => Start());
        Receive<ChunkPresent>(m => m.TransferId == _transferId, _ => Succeed(alreadyThere: true));
        Receive<SendChunk>(m => m.TransferId == _transferId && _receiver is null, m =>
        {
            _receiver = m.Receiver;
            Context.Watch(_receiver);
            if (m.Route is { } route) _body = new OutgoingChunkBody(Context.System, route, _push.Buffer.Memory, _push.Buffer.Retain(), Self);
            else SendParts();
        });
        Receive<OutgoingChunkBody.Sent>(_ => _bodySent = true);
        Receive<OutgoingChunkBody.Failed>(m =>
        {
            if (!m.Unreachable) Fail($"{Target}: the data connection broke: {m.Reason}");
            // A port blocked between the nodes must not stop replication: the body goes the slow way.
            _log.Warning("chunk {0} to {1} goes as Akka.Remote parts: {2}", _push.Id.ToShortString(), Target, m.Reason);
            _body = null;
            SendParts();
        });
        Receive<ChunkPartAck>(m => m.TransferId == _transferId && _sender is not null, m =>
        {
            _sender!.AcknowledgeBytes(m.Received);
            _sender.Pump();
        });
        Receive<ChunkDurable>(m => m.TransferId == _transferId, _ => Succeed(alreadyThere: false));
        Receive<TransferFailed>(m => m.TransferId == _transferId, m => Fail($"{Target} refused it ({m.Code}): {m.Reason}"));
        Receive<Terminated>(_ =>
        {
            // A receiver stops once it has sent ChunkDurable; its Terminated may overtake that message.
            if (_sender is not { Complete: true } && !_bodySent) Fail($"{Target} went away during the transfer");
        });
        Receive<ReceiveTimeout>(_ => Fail(_sender is { Expired: true }
            ? $"{Target} stopped acknowledging parts for {_settings.Replication.TransferTimeout.TotalSeconds:0.#}s"
            : $"no answer from {Target} for {_settings.Replication.TransferTimeout.TotalSeconds:0.#}s"));
    }

    public static Props Props(PushChunk push, long pushId, IActorRef pushes, StoreSettings settings) =>
        ActorProps.Of(() => new ChunkPushActor(push, pushId, pushes, settings));

    private string Target => $"{_push.Target.NodeId} ({_push.Target.Address.Host}:{_push.Target.Address.Port})";

    // A failure thrown from PreStart would stop the actor for good (ActorInitializationException);
    // from a message handler it is a restart, which the backoff supervisor turns into a delayed retry.
    protected override void PreStart() => Self.Tell(Begin.Instance);

    protected override void PostStop()
    {
        _sender?.Close();
        _body?.Finish(whole: false);
    }

    private void SendParts()
    {
        // This attempt's own reference: abandoned rather than returned to the pool if it ends with parts still out.
        var receiver = _receiver!;
        _sender = new WindowedSender(new ChunkBufferSource(_push.Buffer.Retain()), _settings.FrameSize, _settings.Replication.Window,
            (_, offset, data) => receiver.Tell(new ChunkPart(_transferId, (int)offset, data)), _settings.Replication.TransferTimeout);
        _sender.Pump();
    }

    private void Start()
    {
        if (ClusterRing.SeenUnreachable(Context.System, _push.Target.Address)) Fail($"{Target} is unreachable");
        Context.SetReceiveTimeout(_settings.Replication.TransferTimeout);
        ClusterRing.ChunksOf(Context, _push.Target.Address).Tell(new OfferChunk(_transferId, _push.UploadId, _push.Id, _push.Buffer.Length));
    }

    private void Succeed(bool alreadyThere)
    {
        _body?.Finish(whole: true);
        _pushes.Tell(new AttemptSucceeded(_pushId, alreadyThere));
        Context.Stop(Self);
    }

    private void Fail(string reason)
    {
        _pushes.Tell(new AttemptFailed(_pushId, reason));
        throw new RetriedFailureException($"push of chunk {_push.Id.ToShortString()} to {reason}");
    }
}
