using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Replication.Repair;
using ObjectStore.Actors.Storage;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;
using ObjectStore.Core.Placement;
using ObjectStore.Core.Storage;
using ObjectStore.Core.Sync;
using static ObjectStore.Actors.Protocol.ReplicaProtocol;
using static ObjectStore.Actors.Storage.IndexProtocol;

namespace ObjectStore.Actors.Replication.Sync;

/// <summary>
/// This node's side of anti-entropy (<c>/user/anti-entropy</c>): every anti-entropy-interval, and once the
/// membership has been quiet for anti-entropy-settle after a change (a node joined, left, was removed or
/// came back), it compares with every reachable node what both should hold (<see cref="DigestExchange"/>
/// against that node's <see cref="SyncEndpoint"/>), queues the copies the other lacks in the repair queue,
/// and sends it the deletes it missed (what this node lacks, the other's pass sends); then gives up what it
/// holds but no longer owns, once the owners have it (<see cref="ExcessShedder"/>).
/// </summary>
public sealed class AntiEntropyActor : ReceiveActor, IWithTimers
{
    public const string Name = "anti-entropy";

    public sealed record RunNow : ILocalMessage
    {
        public static readonly RunNow Instance = new();
    }

    /// <summary>Replies AntiEntropyStatus.</summary>
    public sealed record GetAntiEntropyStatus : ILocalMessage
    {
        public static readonly GetAntiEntropyStatus Instance = new();
    }

    /// <param name="LastPass">When the last pass ended (default: none yet).</param>
    /// <param name="VersionsDropped">Copies of versions this node held but no longer owns, given up in the last pass once their owners had them.</param>
    public sealed record AntiEntropyStatus(DateTimeOffset LastPass, TimeSpan LastDuration, int Peers, long Items, int Rounds, long Differences,
        long Passes, string LastError, bool Running, int VersionsDropped = 0, int ChunksShed = 0) : ILocalMessage;

    private sealed record PassDone(AntiEntropyStatus Result) : ILocalMessage;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly StoreSettings _settings;
    private readonly IActorRef _index;
    private readonly IActorRef _keeper;
    private readonly ChunkStore _chunks;
    private readonly string _nodeId;
    private bool _running;
    private bool _again;
    private AntiEntropyStatus _last = new(default, TimeSpan.Zero, 0, 0, 0, 0, 0, "", false);

    public ITimerScheduler Timers { get; set; } = null!;

    public AntiEntropyActor(StoreSettings settings, IActorRef index, IActorRef keeper, ChunkStore chunks, string nodeId)
    {
        _settings = settings;
        _index = index;
        _keeper = keeper;
        _chunks = chunks;
        _nodeId = nodeId;

        Receive<RunNow>(_ => Start());
        Receive<PassDone>(m =>
        {
            _running = false;
            _last = m.Result with { Passes = _last.Passes + 1 };
            var r = m.Result;
            if (r.Differences > 0 || r.LastError.Length > 0 || r.VersionsDropped > 0 || r.ChunksShed > 0)
                _log.Info($"anti-entropy with {r.Peers} node(s): {r.Items} item(s) compared in {r.Rounds} round(s), {r.Differences} difference(s) queued; " +
                          $"{r.VersionsDropped} version(s) and {r.ChunksShed} chunk(s) this node no longer owns given up" +
                          (r.LastError.Length > 0 ? $"; {r.LastError}" : ""));
            if (_again)
            {
                _again = false;
                Start();
            }
        });
        Receive<GetAntiEntropyStatus>(_ => Sender.Tell(_last with { Running = _running }));
        Receive<ClusterEvent.IMemberEvent>(_ => Settle());
        Receive<ClusterEvent.ReachableMember>(_ => Settle());
        Receive<ClusterEvent.UnreachableMember>(_ => { });
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
    }

    public static Props Props(StoreSettings settings, IActorRef index, IActorRef keeper, ChunkStore chunks, string nodeId) =>
        ActorProps.Of(() => new AntiEntropyActor(settings, index, keeper, chunks, nodeId));

    protected override void PreStart()
    {
        Timers.StartPeriodicTimer(nameof(RunNow) + "-periodic", RunNow.Instance, _settings.Repair.AntiEntropyInterval);
        if (((ExtendedActorSystem)Context.System).Provider is ClusterActorRefProvider)
            Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
                typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.ReachableMember));
    }

    protected override void PostStop()
    {
        if (((ExtendedActorSystem)Context.System).Provider is ClusterActorRefProvider) Cluster.Get(Context.System).Unsubscribe(Self);
    }

    /// <summary>A membership change: a pass once the cluster has been quiet for the settle time (each change restarts the wait).</summary>
    private void Settle() => Timers.StartSingleTimer(nameof(RunNow) + "-settle", RunNow.Instance, _settings.Repair.AntiEntropySettle);

    private void Start()
    {
        if (_running)
        {
            _again = true;
            return;
        }
        _running = true;
        Pass().PipeTo(Self, success: r => new PassDone(r),
            failure: e => new PassDone(_last with { LastPass = DateTimeOffset.UtcNow, LastError = e.GetBaseException().Message }));
    }

    /// <summary>
    /// Every holder of a version finds the same lack on a new owner at about the same time; the first of them
    /// in the version's order sends at once, the others a while later, when a look at the target (which
    /// chunks it holds) finds the copy made and costs no transfer — unless the first could not send it.
    /// </summary>
    private static readonly TimeSpan BackupDelay = TimeSpan.FromSeconds(10);

    private bool FirstToSend(ClusterRing ring, HeldVersion version, ContentHash? chunk, string target) =>
        (chunk is { } id ? ring.OwnersOf(id, _settings.Replication.Factor)
                : VersionOwners.NodesFor(ring.Placement, version.Bucket, version.Key, version.Chunks, _settings.Replication.Factor))
            .Where(n => n != target && ring.Find(n) is { Reachable: true })
            .Append(_nodeId)
            .First() == _nodeId;

    private sealed record PeerResult(long Items, int Rounds, long Differences, IReadOnlyList<RepairEntry> Entries, string? Error);

    /// <summary>One exchange with one peer: what it lacks of what both should hold becomes repair entries; the deletes it missed are sent.</summary>
    private async Task<PeerResult> CompareWith(ActorSystem system, ClusterRing ring, NodeHoldings holdings, RingMember peer)
    {
        var entries = new Dictionary<(string, string), RepairEntry>();
        try
        {
            var pair = new PairItems(holdings, _chunks.Contains, ring.Placement, _settings.Replication.Factor, _nodeId, peer.NodeId);
            var exchange = new DigestExchange(pair.Tree);
            var session = Guid.NewGuid().ToString("N");
            var sync = system.ActorSelection(new RootActorPath(peer.Address) / "user" / SyncEndpoint.Name);
            while (!exchange.Done)
            {
                var reply = await sync.Ask<object>(new SyncDigests(session, _nodeId, exchange.NextRequest(SyncDigests.MaxRanges)),
                    _settings.Replication.LookupTimeout);
                if (reply is not SyncAnswers answers) throw new InvalidOperationException((reply as StoreProtocol.StoreError)?.Message ?? reply.GetType().Name);
                exchange.Take(answers.Answers);
            }
            foreach (var item in exchange.PeerLacks)
            {
                var (version, chunk, marker) = pair.Resolve(item);
                if (version is not null)
                {
                    var first = FirstToSend(ring, version, chunk, peer.NodeId);
                    var key = (version.VersionId, peer.NodeId);
                    // Sent at once if this node is first for any of what the peer lacks of the version.
                    if (!entries.TryGetValue(key, out var queued) || first && queued.NextTry != default)
                        entries[key] = new RepairEntry(version.VersionId, peer.NodeId, version.Bucket, version.Key, version.Size,
                            "anti-entropy: missing there", NextTry: first ? default : DateTimeOffset.UtcNow + BackupDelay);
                }
                else if (marker is not null)
                    ClusterRing.ReplicasOf(system, peer.Address).Tell(new DeleteLocal(marker));
            }
            return new PeerResult(pair.Tree.Count, exchange.Rounds, exchange.PeerLacks.Count, entries.Values.ToList(), null);
        }
        catch (Exception e)
        {
            return new PeerResult(0, 0, 0, [], $"{peer.NodeId}: {(e is AskTimeoutException ? "no answer" : e.Message)}");
        }
    }

    /// <summary>One comparison with every reachable node, one after the other. Runs outside the actor: it touches no actor state.</summary>
    private async Task<AntiEntropyStatus> Pass()
    {
        var started = DateTimeOffset.UtcNow;
        var system = Context.System;
        var ring = ClusterRing.Current(system, _nodeId);
        var peers = ring.Reachable.Where(n => n.NodeId != _nodeId).ToList();
        if (peers.Count == 0) return new AntiEntropyStatus(started, TimeSpan.Zero, 0, 0, 0, 0, 0, "", false);
        var found = await _index.AskIndex<HoldingsFound>(GetHoldings.Instance, _settings.RequestTimeout);
        var (items, rounds, differences) = (0L, 0, 0L);
        var errors = new List<string>();
        var entries = new Dictionary<(string, string), RepairEntry>();
        // Every peer at once: a peer that died a moment ago (still reachable in this node's view) costs its
        // timeout, not the whole pass's.
        var results = await Task.WhenAll(peers.Select(peer => CompareWith(system, ring, found.Holdings, peer)));
        foreach (var result in results)
        {
            if (result.Error is not null) errors.Add(result.Error);
            items += result.Items;
            rounds += result.Rounds;
            differences += result.Differences;
            foreach (var entry in result.Entries)
                if (!entries.TryGetValue((entry.VersionId, entry.Target), out var queued) || entry.NextTry == default && queued.NextTry != default)
                    entries[(entry.VersionId, entry.Target)] = entry;
        }
        // Then what this node holds but no longer should: given up once its owners have theirs.
        var excess = new ExcessCopies(found.Holdings, _chunks.Contains, ring.Placement, _settings.Replication.Factor, _nodeId);
        var shed = excess.IsEmpty ? new ExcessShedder.Outcome(0, 0, []) : await new ExcessShedder(system, _settings, _index, _keeper).Shed(ring, excess);
        foreach (var entry in shed.ToQueue) entries.TryAdd((entry.VersionId, entry.Target), entry);
        if (entries.Count > 0)
            await system.ActorSelection($"/user/{RepairActor.Name}").Ask<RepairProtocol.RepairsQueued>(
                new RepairProtocol.QueueRepairs(entries.Values.ToList()), _settings.RequestTimeout);
        return new AntiEntropyStatus(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow - started, peers.Count, items, rounds, differences, 0,
            string.Join("; ", errors), false, shed.VersionsDropped, shed.ChunksShed);
    }
}
