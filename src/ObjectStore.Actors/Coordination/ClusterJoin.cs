using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace ObjectStore.Actors.Coordination;

/// <summary>
/// Whether this node is a member of a cluster yet, in words an operator can act on. A node whose seeds do
/// not answer is alone: it refuses puts (fewer writable nodes than the quorum), and without this it would
/// look like an empty cluster in `members` and `status`.
/// </summary>
public static class ClusterJoin
{
    /// <summary>Null once this node is a member (Up or later); else why not, naming the seeds it tries.</summary>
    public static string? NotJoinedNotice(ActorSystem system)
    {
        if (((ExtendedActorSystem)system).Provider is not ClusterActorRefProvider) return null;
        var cluster = Cluster.Get(system);
        var self = cluster.State.Members.FirstOrDefault(m => m.UniqueAddress.Equals(cluster.SelfUniqueAddress));
        if (self is { Status: MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Leaving or MemberStatus.Exiting }) return null;
        var seeds = cluster.Settings.SeedNodes.Where(s => !s.Equals(cluster.SelfAddress)).Select(s => $"{s.Host}:{s.Port}").ToList();
        var waited = $"{system.Uptime.TotalSeconds:0}s";
        if (self is not null) return $"this node is {self.Status} and not yet Up ({waited} since it started)";
        return seeds.Count == 0
            ? $"this node is not a member of a cluster yet ({waited} since it started)"
            : $"this node is not a member of a cluster yet: none of its seeds ({string.Join(", ", seeds)}) has let it join in {waited}; " +
              "puts are refused until it joins (are the seeds running, and is --seed right?)";
    }
}

/// <summary>Says on the log every few seconds while this node has not joined its cluster, and once when it has.</summary>
public sealed class ClusterJoinWatch : ReceiveActor, IWithTimers
{
    public const string Name = "cluster-join-watch";
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private sealed record Check
    {
        public static readonly Check Instance = new();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public ClusterJoinWatch()
    {
        var warned = false;
        Receive<Check>(_ =>
        {
            var notice = ClusterJoin.NotJoinedNotice(Context.System);
            if (notice is not null)
            {
                Context.GetLogger().Warning(notice);
                warned = true;
                return;
            }
            if (warned) Context.GetLogger().Info("this node has joined the cluster");
            Context.Stop(Self);
        });
    }

    protected override void PreStart() => Timers.StartPeriodicTimer("check", Check.Instance, Interval);

    public static Props Props() => ActorProps.Of(() => new ClusterJoinWatch());
}
