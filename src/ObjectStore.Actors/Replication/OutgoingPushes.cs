using Akka.Actor;
using Akka.Event;
using Akka.Pattern;

namespace ObjectStore.Actors.Replication;

/// <summary>
/// This node's pushes of chunks to other nodes (<c>/user/pushes</c>), for its puts: each push a child
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

    private sealed class Push(PushChunk request, IActorRef requester)
    {
        public PushChunk Request { get; } = request;
        public IActorRef Requester { get; } = requester;
        public bool Succeeded { get; set; }
        public bool AlreadyThere { get; set; }
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

        Receive<PushChunk>(StartPush);
        Receive<GetPushStats>(_ =>
        {
            var inFlight = _pushes.Values.GroupBy(p => p.Request.Target.NodeId).ToDictionary(g => g.Key, g => g.Count());
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
            _log.Info("push of chunk {0} failed (attempt {1} of {2}): {3}", push.Request.Id.ToShortString(), push.Attempts,
                _settings.Replication.MaxRetries + 1, m.Reason);
        });
        Receive<CancelPush>(m =>
        {
            var (supervisor, id) = _pushBySupervisor.FirstOrDefault(p => _pushes[p.Value].Requester.Equals(Sender) && _pushes[p.Value].Request.RequestId == m.RequestId);
            if (supervisor is null) return;
            _pushBySupervisor.Remove(supervisor);
            if (_pushes.Remove(id, out var push)) push.Request.Buffer.Dispose();
            Context.Unwatch(supervisor);
            Context.Stop(supervisor);
        });
        Receive<Terminated>(m => EndPush(m.ActorRef));
    }

    public static Props Props(StoreSettings settings) => Akka.Actor.Props.Create(() => new OutgoingPushes(settings));

    protected override void PostStop()
    {
        foreach (var push in _pushes.Values) push.Request.Buffer.Dispose();
    }

    private void StartPush(PushChunk m)
    {
        var id = ++_nextPush;
        var r = _settings.Replication;
        var supervisor = Context.ActorOf(BackoffSupervisor.Props(
            Backoff.OnFailure(ChunkPushActor.Props(m, id, Self, _settings), "attempt", r.RetryMinBackoff, r.RetryMaxBackoff,
                    randomFactor: 0.2, maxNrOfRetries: r.MaxRetries)
                // The default auto-reset would forget earlier failures once an attempt had run for
                // min-backoff, so a slow failing peer would be retried forever instead of handed off.
                .WithManualReset()), $"push-{id}");
        Context.Watch(supervisor);
        _pushes[id] = new Push(m, Sender);
        _pushBySupervisor[supervisor] = id;
    }

    /// <summary>The push's supervisor stopped: its attempt succeeded, or its last retry failed.</summary>
    private void EndPush(IActorRef supervisor)
    {
        if (!_pushBySupervisor.Remove(supervisor, out var id) || !_pushes.Remove(id, out var push)) return;
        push.Request.Buffer.Dispose();
        if (push.Succeeded) Tally(push.Request.Target.NodeId, done: 1);
        else Tally(push.Request.Target.NodeId, givenUp: 1);
        (push.Succeeded ? Metrics.StoreMetrics.Transfers : Metrics.StoreMetrics.TransferFailures).Add(1);
        push.Requester.Tell(push.Succeeded
            ? new PushDone(push.Request.RequestId, true, push.AlreadyThere, null)
            : new PushDone(push.Request.RequestId, false, false, $"{push.LastFailure} (after {push.Attempts} attempts)"));
    }
}
