using Akka.Actor;
using Akka.Event;
using Akka.Pattern;
using ObjectStore.Actors.Protocol;

namespace ObjectStore.Actors.Replication;

/// <summary>
/// This node's pushes of chunks to other nodes (<c>/user/pushes</c>), for its puts: each push (one chunk,
/// or a batch of small chunks to one node) a child
/// under its own backoff supervisor, so a transfer that fails is retried after 0.2 s, 0.4 s, 0.8 s ...
/// and, after its last retry, reported as failed so the put can hand the chunk to the next node in the
/// owner list.
/// </summary>
/// <remarks>
/// BackoffSupervisor (Backoff.OnFailure) rather than a hand-made retry loop: each attempt is a fresh
/// actor (no state left over from a broken attempt), the delays grow with jitter, and a crashing
/// transfer is contained by its own supervisor: it never restarts this actor or the node.
/// </remarks>
public sealed class OutgoingPushes : ReceiveActor
{
    public const string Name = "pushes";

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly StoreSettings _settings;

    /// <summary>One chunk's push, or a batch of small chunks to one node (<see cref="PushChunkBatch"/>).</summary>
    private sealed class Push(IReadOnlyList<PushChunk> requests, bool batch, IActorRef requester)
    {
        public PushChunk Request => Requests[0];
        public IReadOnlyList<PushChunk> Requests { get; } = requests;
        public bool IsBatch { get; } = batch;
        public IActorRef Requester { get; } = requester;
        public bool Succeeded { get; set; }
        public bool AlreadyThere { get; set; }
        /// <summary>A batch's verdict per chunk, from its attempt that got an answer.</summary>
        public IReadOnlyList<ChunkTransferProtocol.ChunkOutcome>? Outcomes { get; set; }
        public int Attempts { get; set; }
        public string LastFailure { get; set; } = "stopped";
    }

    /// <summary>What `replication status` shows per peer: pushes now, failed attempts (each retried), pushes given up (the put hands the chunk off).</summary>
    public sealed record PeerPushes(string NodeId, int InFlight, long FailedAttempts, long GivenUp, long Done);

    /// <summary>Replies the per-peer tallies as a list of <see cref="PeerPushes"/>.</summary>
    public sealed record GetPushStats : ILocalMessage
    {
        public static readonly GetPushStats Instance = new();
    }

    private readonly Dictionary<string, (long Failed, long GivenUp, long Done)> _tallies = new();

    private void Tally(string nodeId, long failed = 0, long givenUp = 0, long done = 0)
    {
        var t = _tallies.GetValueOrDefault(nodeId);
        _tallies[nodeId] = (t.Failed + failed, t.GivenUp + givenUp, t.Done + done);
    }

    private readonly Dictionary<long, Push> _pushes = new();
    private readonly Dictionary<IActorRef, long> _pushBySupervisor = new();
    private long _nextPush;

    public OutgoingPushes(StoreSettings settings)
    {
        _settings = settings;

        Receive<PushChunk>(m => StartPush([m], batch: false, id => ChunkPushActor.Props(m, id, Self, _settings)));
        Receive<PushChunkBatch>(m => StartPush(m.Chunks, batch: true, id => ChunkBatchPushActor.Props(m, id, Self, _settings)));
        Receive<ChunkBatchPushActor.AttemptAnswered>(m =>
        {
            if (!_pushes.TryGetValue(m.PushId, out var push)) return;
            push.Succeeded = true;
            push.Outcomes = m.Outcomes;
        });
        Receive<GetPushStats>(_ =>
        {
            var inFlight = _pushes.Values.GroupBy(p => p.Request.Target.NodeId).ToDictionary(g => g.Key, g => g.Sum(p => p.Requests.Count));
            Sender.Tell(_tallies.Keys.Union(inFlight.Keys).Order(StringComparer.Ordinal)
                .Select(id => new PeerPushes(id, inFlight.GetValueOrDefault(id), _tallies.GetValueOrDefault(id).Failed,
                    _tallies.GetValueOrDefault(id).GivenUp, _tallies.GetValueOrDefault(id).Done))
                .ToList());
        });
        Receive<ChunkPushActor.AttemptSucceeded>(m =>
        {
            if (!_pushes.TryGetValue(m.PushId, out var push)) return;
            push.Succeeded = true;
            push.AlreadyThere = m.AlreadyThere;
        });
        Receive<ChunkPushActor.AttemptFailed>(m =>
        {
            if (!_pushes.TryGetValue(m.PushId, out var push)) return;
            push.Attempts++;
            push.LastFailure = m.Reason;
            Tally(push.Request.Target.NodeId, failed: 1);
            Metrics.StoreMetrics.TransferRetries.Add(1);
            _log.Info("push of {0} failed (attempt {1} of {2}): {3}", push.IsBatch ? $"{push.Requests.Count} small chunks" : $"chunk {push.Request.Id.ToShortString()}", push.Attempts,
                _settings.Replication.MaxRetries + 1, m.Reason);
        });
        Receive<CancelPush>(m =>
        {
            // A batch runs to its end (it is over in one round trip); its late answer is ignored by the requester.
            var (supervisor, id) = _pushBySupervisor.FirstOrDefault(p =>
                _pushes[p.Value] is { IsBatch: false } push && push.Requester.Equals(Sender) && push.Request.RequestId == m.RequestId);
            if (supervisor is null) return;
            _pushBySupervisor.Remove(supervisor);
            if (_pushes.Remove(id, out var push)) Dispose(push);
            Context.Unwatch(supervisor);
            Context.Stop(supervisor);
        });
        Receive<Terminated>(m => EndPush(m.ActorRef));
    }

    public static Props Props(StoreSettings settings) => ActorProps.Of(() => new OutgoingPushes(settings));

    protected override void PostStop()
    {
        foreach (var push in _pushes.Values) Dispose(push);
    }

    private void StartPush(IReadOnlyList<PushChunk> requests, bool batch, Func<long, Props> attempt)
    {
        var id = ++_nextPush;
        var r = _settings.Replication;
        var supervisor = Context.ActorOf(BackoffSupervisor.Props(
            Backoff.OnFailure(attempt(id), "attempt", r.RetryMinBackoff, r.RetryMaxBackoff, randomFactor: 0.2, maxNrOfRetries: r.MaxRetries)
                // The default auto-reset would forget earlier failures once an attempt had run for
                // min-backoff, so a slow failing peer would be retried forever instead of handed off.
                .WithManualReset()), $"push-{id}");
        Context.Watch(supervisor);
        _pushes[id] = new Push(requests, batch, Sender);
        _pushBySupervisor[supervisor] = id;
    }

    private static void Dispose(Push push)
    {
        foreach (var request in push.Requests) request.Buffer.Dispose();
    }

    /// <summary>The push's supervisor stopped: its attempt succeeded (a batch: was answered), or its last retry failed.</summary>
    private void EndPush(IActorRef supervisor)
    {
        if (!_pushBySupervisor.Remove(supervisor, out var id) || !_pushes.Remove(id, out var push)) return;
        Dispose(push);
        for (var i = 0; i < push.Requests.Count; i++)
        {
            var request = push.Requests[i];
            var failure = !push.Succeeded ? $"{push.LastFailure} (after {push.Attempts} attempts)"
                : push.Outcomes is { } outcomes ? outcomes[i].Failure is { } refused ? $"{request.Target.NodeId} refused it ({outcomes[i].Code}): {refused}" : null
                : null;
            if (failure is null) Tally(request.Target.NodeId, done: 1);
            else Tally(request.Target.NodeId, givenUp: 1);
            (failure is null ? Metrics.StoreMetrics.Transfers : Metrics.StoreMetrics.TransferFailures).Add(1);
            // A single push's target had the chunk when offered it (AlreadyThere), or took it; a batch's says for each.
            var written = failure is null && (push.Outcomes is { } answered ? answered[i].Written : !push.AlreadyThere);
            push.Requester.Tell(new PushDone(request.RequestId, failure is null, failure is null && push.AlreadyThere, failure, written));
        }
    }
}
