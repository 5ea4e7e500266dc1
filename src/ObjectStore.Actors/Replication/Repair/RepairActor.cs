using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Metadata;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Replication.Repair.RepairProtocol;

namespace ObjectStore.Actors.Replication.Repair;

/// <summary>
/// The node's self-healing worker (<c>/user/repair</c>): owns the persisted <see cref="RepairQueue"/>, takes
/// the entries that have come due, at most <see cref="RepairSettings.Concurrency"/> at once, each made by a
/// <see cref="RepairCopyActor"/> sending at most <see cref="RepairSettings.Rate"/> bytes per second between
/// them; a failed copy is tried again later, with a growing delay. A node that comes back (reachable again,
/// or Up) has its waiting copies tried at once; a node that leaves has its copies re-planned.
/// </summary>
public sealed class RepairActor : ReceiveActor, IWithTimers
{
    public const string Name = "repair";

    /// <summary>What a copy uses of the node.</summary>
    internal sealed record Parts(IActorRef Index, IActorRef Reader, IActorRef Pushes, string NodeId);

    private sealed record Poll : ILocalMessage
    {
        public static readonly Poll Instance = new();
    }

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly StoreSettings _settings;
    private readonly Parts _parts;
    private readonly ByteRate _rate;
    private readonly Dictionary<(string VersionId, string Target), IActorRef> _running = new();
    private readonly Queue<(DateTime At, long Bytes)> _recent = new();
    private RepairQueue _queue = null!;
    /// <summary>The queue's length after its last change, for the metrics gauge (read on another thread).</summary>
    private long _queuedCopies;
    private IDisposable? _queuedCopiesGauge;
    private long _copiesMade, _bytesRepaired, _failures;
    private string _lastError = "";

    public ITimerScheduler Timers { get; set; } = null!;

    public RepairActor(StoreSettings settings, IActorRef index, IActorRef reader, IActorRef pushes, string nodeId)
    {
        _settings = settings;
        _parts = new Parts(index, reader, pushes, nodeId);
        // A second's worth at most in the bucket.
        _rate = new ByteRate(settings.Repair.Rate, TimeSpan.FromSeconds(1));

        Receive<QueueRepairs>(m =>
        {
            try
            {
                _queue.Add(m.Entries, DateTimeOffset.UtcNow);
                CountQueue();
                Sender.Tell(new RepairsQueued(m.Entries.Count));
                Self.Tell(Poll.Instance);
            }
            catch (Microsoft.Data.Sqlite.SqliteException e)
            {
                _log.Error("could not queue {0} copies to make: {1}", m.Entries.Count, e.Message);
                Sender.Tell(new StoreError(StoreErrorCode.StorageFailure, $"the repair queue could not be written: {e.Message}"));
            }
        });
        Receive<Poll>(_ => StartDue());
        Receive<RepairCopyActor.Finished>(HandleFinished);
        Receive<GetRepairStatus>(_ => Sender.Tell(Status()));
        Receive<ClusterEvent.IMemberEvent>(m => MembershipChanged(m.Member));
        Receive<ClusterEvent.ReachableMember>(m => MembershipChanged(m.Member));
        Receive<ClusterEvent.IClusterDomainEvent>(_ => { });
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
    }

    public static Props Props(StoreSettings settings, IActorRef index, IActorRef reader, IActorRef pushes, string nodeId) =>
        ActorProps.Of(() => new RepairActor(settings, index, reader, pushes, nodeId));

    protected override void PreStart()
    {
        _queue = new RepairQueue(_settings.DataDirectory);
        CountQueue();
        var waiting = Interlocked.Read(ref _queuedCopies);
        _queuedCopiesGauge = Metrics.StoreMetrics.ObserveQueuedCopies(() => Interlocked.Read(ref _queuedCopies));
        if (waiting > 0) _log.Info("repair queue: {0} copies to make", waiting);
        Timers.StartPeriodicTimer(nameof(Poll), Poll.Instance, _settings.Repair.PollInterval);
        if (((ExtendedActorSystem)Context.System).Provider is ClusterActorRefProvider)
            Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
                typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.ReachableMember));
    }

    /// <summary>Counted where the queue changes (entries added, a copy done), not on every poll.</summary>
    private void CountQueue() => Interlocked.Exchange(ref _queuedCopies, _queue.Count());

    protected override void PostStop()
    {
        if (((ExtendedActorSystem)Context.System).Provider is ClusterActorRefProvider) Cluster.Get(Context.System).Unsubscribe(Self);
        _rate.Dispose();
        _queue?.Dispose();
        _queuedCopiesGauge?.Dispose(); // a restarted actor registers its own count
    }

    private void StartDue()
    {
        var free = _settings.Repair.Concurrency - _running.Count;
        if (free <= 0) return;
        foreach (var entry in _queue.Due(DateTimeOffset.UtcNow, free, _running.Keys.ToHashSet()))
            _running[(entry.VersionId, entry.Target)] = Context.ActorOf(RepairCopyActor.Props(entry, _settings, _parts, _rate));
    }

    private void HandleFinished(RepairCopyActor.Finished m)
    {
        var key = (m.Entry.VersionId, m.Entry.Target);
        _running.Remove(key);
        _bytesRepaired += m.Bytes;
        if (m.Bytes > 0) _recent.Enqueue((DateTime.UtcNow, m.Bytes));
        var now = DateTimeOffset.UtcNow;
        if (m.Done)
        {
            _queue.Remove(m.Entry.VersionId, m.Entry.Target);
            if (m.Replan.Count > 0) _queue.Add(m.Replan, now);
            else _copiesMade++;
            CountQueue();
            _log.Debug("copy of {0}/{1} on {2}: {3}", m.Entry.Bucket, m.Entry.Key, m.Entry.Target, m.Note);
        }
        else
        {
            _failures++;
            _lastError = $"{m.Entry.Bucket}/{m.Entry.Key} on {m.Entry.Target}: {m.Note}";
            var delay = _settings.Repair.Backoff(m.Entry.Attempts);
            _queue.Retry(m.Entry.VersionId, m.Entry.Target, m.Note, delay, now);
            _log.Info("copy of {0}/{1} to {2} failed (attempt {3}), next try in {4}: {5}", m.Entry.Bucket, m.Entry.Key, m.Entry.Target,
                m.Entry.Attempts + 1, delay, m.Note);
        }
        Self.Tell(Poll.Instance);
    }

    /// <summary>A node came back or joined: copies waiting for it are tried now; copies with no node to go to get one if they can.</summary>
    private void MembershipChanged(Member member)
    {
        if (ClusterRing.NodeIdOf(member.Roles) is not { } nodeId) return;
        var now = DateTimeOffset.UtcNow;
        if (member.Status is MemberStatus.Up or MemberStatus.WeaklyUp)
        {
            _queue.WakeTarget(nodeId, now);
            // Copies that had no node to go to are re-planned (by the copy actor) now that one may exist.
            _queue.WakeTarget("", now);
        }
        else if (member.Status is MemberStatus.Removed or MemberStatus.Down or MemberStatus.Exiting)
        {
            _queue.WakeTarget(nodeId, now);
        }
        Self.Tell(Poll.Instance);
    }

    private RepairStatus Status()
    {
        var window = TimeSpan.FromMinutes(1);
        while (_recent.TryPeek(out var r) && DateTime.UtcNow - r.At > window) _recent.Dequeue();
        var perSecond = _recent.Sum(r => r.Bytes) / window.TotalSeconds;
        return new RepairStatus(_queue.Backlog(), _running.Count, _copiesMade, _bytesRepaired, _failures, perSecond, _lastError);
    }
}
