using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Replication.Repair;
using ObjectStore.Actors.Storage;
using static ObjectStore.Actors.Protocol.ReplicaProtocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.IndexProtocol;

namespace ObjectStore.Actors.Replication.Sync;

/// <summary>
/// A graceful leave (<c>/user/drain</c>): the node marks itself draining on every member (<see cref="DrainingNodes"/>),
/// so that it owns nothing from then on and new writes go to the nodes that remain. Its anti-entropy passes
/// then find everything it holds in excess: each copy is made on its new owners and only then given up here
/// (<see cref="ExcessShedder"/>). Once it holds no object version and its repair queue is empty, it leaves
/// the cluster. A leave that would leave fewer storage nodes than the factor is refused.
/// </summary>
public sealed class DrainActor : ReceiveActor, IWithTimers
{
    public const string Name = "drain";

    /// <summary>From the coordinator: start draining. Replies LeaveAccepted or StoreError.</summary>
    public sealed record StartDrain : ILocalMessage
    {
        public static readonly StartDrain Instance = new();
    }

    private sealed record Tick : ILocalMessage
    {
        public static readonly Tick Instance = new();
    }

    private sealed record Progress(long Objects, long CopiesQueued) : ILocalMessage;

    private static readonly TimeSpan Every = TimeSpan.FromSeconds(2);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly StoreSettings _settings;
    private readonly IActorRef _index;
    private readonly string _nodeId;
    private bool _draining;
    private bool _left;

    public ITimerScheduler Timers { get; set; } = null!;

    public DrainActor(StoreSettings settings, IActorRef index, string nodeId)
    {
        _settings = settings;
        _index = index;
        _nodeId = nodeId;

        Receive<StartDrain>(_ => Start(Sender));
        Receive<Tick>(_ => OnTick());
        Receive<Progress>(m =>
        {
            if (_left || m.Objects != 0 || m.CopiesQueued != 0)
            {
                _log.Info("draining: {0} object version(s) still here, {1} cop(ies) queued", m.Objects, m.CopiesQueued);
                return;
            }
            _left = true;
            _log.Info("drained: every copy this node held is on the remaining nodes; leaving the cluster");
            var cluster = Cluster.Get(Context.System);
            cluster.Leave(cluster.SelfAddress);
        });
    }

    public static Props Props(StoreSettings settings, IActorRef index, string nodeId) =>
        ActorProps.Of(() => new DrainActor(settings, index, nodeId));

    private void Start(IActorRef replyTo)
    {
        if (((ExtendedActorSystem)Context.System).Provider is not ClusterActorRefProvider)
        {
            replyTo.Tell(new StoreError(StoreErrorCode.InvalidRequest, "this node runs without a cluster; there is nothing to leave"));
            return;
        }
        var ring = ClusterRing.Current(Context.System, _nodeId);
        var remaining = ring.Members.Count(m => m.NodeId != _nodeId && !m.Draining);
        if (!_draining && remaining < _settings.Replication.Factor)
        {
            replyTo.Tell(new StoreError(StoreErrorCode.InvalidRequest,
                $"leaving would leave {remaining} storage node(s) for a replication factor of {_settings.Replication.Factor}, " +
                "and copies would be lost; add a node first"));
            return;
        }
        if (!_draining)
        {
            _draining = true;
            _log.Info("leave asked: handing every copy over to the remaining nodes before leaving");
            Timers.StartPeriodicTimer(nameof(Tick), Tick.Instance, Every);
            Announce();
            Context.ActorSelection($"/user/{AntiEntropyActor.Name}").Tell(AntiEntropyActor.RunNow.Instance);
        }
        var nodeId = _nodeId;
        _index.Ask<object>(CountObjects.Instance, _settings.RequestTimeout)
            .PipeTo(replyTo, success: r => r is ObjectCount c ? new LeaveAccepted(nodeId, c.Objects) : r,
                failure: e => new StoreError(StoreErrorCode.Unavailable, $"storage did not answer ({e.GetType().Name})"));
    }

    /// <summary>Tells every member (this one too) that this node is draining, for a while longer.</summary>
    private void Announce()
    {
        DrainingNodes.Of(Context.System).Mark(_nodeId, DrainingNodes.Ttl);
        var message = new NodeDraining(_nodeId, true, (int)DrainingNodes.Ttl.TotalSeconds);
        foreach (var member in Cluster.Get(Context.System).State.Members.Where(m => m.Address != Cluster.Get(Context.System).SelfAddress))
            ClusterRing.ReplicasOf(Context, member.Address).Tell(message);
    }

    private void OnTick()
    {
        if (!_draining) return;
        Announce();
        if (_left) return;
        Context.ActorSelection($"/user/{AntiEntropyActor.Name}").Tell(AntiEntropyActor.RunNow.Instance);
        CheckProgress(_index, Context.ActorSelection($"/user/{RepairActor.Name}"), _settings.RequestTimeout);
    }

    private void CheckProgress(IActorRef index, ActorSelection repair, TimeSpan timeout)
    {
        async Task<Progress> Ask()
        {
            var objects = await index.AskIndex<ObjectCount>(CountObjects.Instance, timeout);
            var queued = await repair.Ask<RepairProtocol.RepairStatus>(RepairProtocol.GetRepairStatus.Instance, timeout);
            return new Progress(objects.Objects, queued.Entries);
        }
        Ask().PipeTo(Self, failure: _ => new Progress(-1, -1));
    }
}
