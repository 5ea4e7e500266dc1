using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using ObjectStore.Actors.Client;
using ObjectStore.Actors.Replication;
using ObjectStore.Core.Chunking;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Storage;

namespace ObjectStore.Actors.Tests;

/// <summary>
/// Several nodes in one test process, each its own actor system on 127.0.0.1 with a free port, joined
/// into one cluster. A node can be crashed (its system stops without leaving, so the others see it
/// unreachable, as after kill -9). No downing: an unreachable node stays a member, as it would for
/// the 20 s before the split-brain resolver acts in production. Everything is stopped on dispose.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    public static readonly Config NodeConfig = ConfigurationFactory.ParseString("""
        akka.actor.provider = cluster
        akka.cluster.downing-provider-class = ""
        akka.cluster.failure-detector.heartbeat-interval = 200ms
        # Several nodes share this process and CI's two cores with other test processes: with a 1 s pause a
        # busy moment made live nodes unreachable and a put handed their chunks off (a failed test, once in
        # .ci/run). 3 s still sees a crashed node within seconds.
        akka.cluster.failure-detector.acceptable-heartbeat-pause = 3s
        akka.coordinated-shutdown.run-by-actor-system-terminate = off
        akka.cluster.run-coordinated-shutdown-when-down = off
        akka.remote.dot-netty.tcp.port = 0
        # Messages between these nodes cross Akka.Remote and are serialized there; within one node,
        # Akka.Cluster's own events (ReachabilityChanged) cannot be, and checking them would drop them.
        akka.actor.serialize-messages = off
        """).WithFallback(StoreTestKit.TestConfig);

    public sealed record Node(int Index, ActorSystem System, StoreNode.Handles Handles, StoreSettings Settings, StoreClient Client)
    {
        public string Id => Handles.NodeId;
        public string ChunkDirectory => Path.Combine(Settings.DataDirectory, "chunks");
        public Address Address { get; } = Cluster.Get(System).SelfAddress;

        /// <summary>Flips a byte in the middle of the node's copy of a chunk (bit rot, as a scrub or a get would meet it).</summary>
        public void CorruptChunk(ContentHash id)
        {
            var path = Handles.Chunks.PathOf(id);
            var bytes = File.ReadAllBytes(path);
            bytes[bytes.Length / 2] ^= 0xff;
            File.WriteAllBytes(path, bytes);
        }

        public HashSet<ContentHash> ChunkIds() =>
            Directory.Exists(ChunkDirectory)
                ? Directory.GetFiles(ChunkDirectory, "*", SearchOption.AllDirectories).Select(f => ContentHash.Parse(Path.GetFileName(f))).ToHashSet()
                : [];
    }

    private readonly List<Node> _nodes = [];
    private readonly HashSet<int> _crashed = [];

    /// <param name="antiEntropy">How often each node runs anti-entropy (null: every 3 s); a test of another repair path sets it long.</param>
    /// <param name="lateCopyGrace">How long a put waits for a copy still being written after its quorum (null: 300 ms).</param>
    /// <param name="chunking">The chunker's sizes (null: <see cref="StoreTestKit.SmallChunks"/>).</param>
    public TestCluster(string root, int factor = 3, int quorum = 2, int manifestPage = 2000, TimeSpan? antiEntropy = null, TimeSpan? lateCopyGrace = null,
        ChunkerOptions? chunking = null)
    {
        Root = root;
        Settings = StoreSettings.FromConfig(NodeConfig) with
        {
            IdleTimeout = TimeSpan.FromSeconds(15),
            RequestTimeout = TimeSpan.FromSeconds(10),
            StorageRestartMinBackoff = TimeSpan.FromMilliseconds(100),
            StorageRestartMaxBackoff = TimeSpan.FromMilliseconds(500),
            Chunking = chunking ?? StoreTestKit.SmallChunks,
            Replication = StoreSettings.Default.Replication with
            {
                Factor = factor,
                WriteQuorum = quorum,
                TransferTimeout = TimeSpan.FromSeconds(3),
                RetryMinBackoff = TimeSpan.FromMilliseconds(50),
                RetryMaxBackoff = TimeSpan.FromMilliseconds(200),
                MaxRetries = 2,
                LookupTimeout = TimeSpan.FromSeconds(2),
                ManifestPage = manifestPage,
                LateCopyGrace = lateCopyGrace ?? TimeSpan.FromMilliseconds(300),
            },
            Repair = StoreSettings.Default.Repair with
            {
                RetryMinBackoff = TimeSpan.FromMilliseconds(100),
                RetryMaxBackoff = TimeSpan.FromSeconds(1),
                PollInterval = TimeSpan.FromMilliseconds(100),
                AntiEntropyInterval = antiEntropy ?? TimeSpan.FromSeconds(3),
                AntiEntropySettle = antiEntropy is null ? TimeSpan.FromMilliseconds(300) : antiEntropy.Value,
                ScrubRate = 64 * 1024 * 1024,
            },
        };
        Directory.CreateDirectory(root);
    }

    public string Root { get; }
    public StoreSettings Settings { get; }
    public IReadOnlyList<Node> Nodes => _nodes;
    public IEnumerable<Node> Running => _nodes.Where(n => !_crashed.Contains(n.Index));

    /// <summary>Starts <paramref name="count"/> nodes and waits until every one sees all of them Up.</summary>
    /// <param name="linkFaults">Which chunk bodies each node's outgoing data connections cut off mid-way.</param>
    public async Task StartAsync(int count, Func<int, IStorageFaults?>? faults = null, Func<int, Transfer.DataLinkFaults?>? linkFaults = null)
    {
        for (var i = 0; i < count; i++) StartNode(faults?.Invoke(i), linkFaults?.Invoke(i));
        var seed = Cluster.Get(_nodes[0].System).SelfAddress;
        foreach (var node in _nodes) Cluster.Get(node.System).Join(seed);
        await WaitUntil(() => _nodes.All(n => Cluster.Get(n.System).State.Members.Count(m => m.Status == MemberStatus.Up) == count),
            "every node sees all nodes Up");
    }

    /// <summary>Starts one more node, joins it to the running ones and waits until every running node sees it Up.</summary>
    public async Task<Node> AddNodeAsync(IStorageFaults? faults = null)
    {
        var node = StartNode(faults);
        Cluster.Get(node.System).Join(Cluster.Get(Running.First().System).SelfAddress);
        var up = Running.Count();
        await WaitUntil(() => Running.All(n => Cluster.Get(n.System).State.Members.Count(m => m.Status == MemberStatus.Up) == up),
            $"every node sees node {node.Index + 1} Up");
        return node;
    }

    private Node StartNode(IStorageFaults? faults, Transfer.DataLinkFaults? linkFaults = null)
    {
        var i = _nodes.Count;
        var settings = Settings with { DataDirectory = Path.Combine(Root, $"n{i + 1}") };
        var system = ActorSystem.Create("objectstore", StoreNode.WithNodeRole(NodeConfig, settings.DataDirectory));
        var handles = StoreNode.Start(system, settings, faults, linkFaults);
        var node = new Node(i, system, handles, settings, new StoreClient(system, handles.Coordinator, settings));
        _nodes.Add(node);
        return node;
    }

    /// <summary>The repair queue's state on a node.</summary>
    public static Task<Replication.Repair.RepairProtocol.RepairStatus> RepairStatusAsync(Node node) =>
        node.System.ActorSelection($"/user/{Replication.Repair.RepairActor.Name}")
            .Ask<Replication.Repair.RepairProtocol.RepairStatus>(Replication.Repair.RepairProtocol.GetRepairStatus.Instance, TimeSpan.FromSeconds(10));

    /// <summary>Whether the node's own index has this version of the key.</summary>
    public static async Task<bool> HoldsVersionAsync(Node node, string bucket, string key, string versionId) =>
        await node.Handles.Index.Ask<object>(new Storage.IndexProtocol.GetManifest(bucket, key), TimeSpan.FromSeconds(10))
            is Storage.IndexProtocol.ManifestFound { Manifest.VersionId: var v } && v == versionId;

    /// <summary>Stops a node's actor system without leaving the cluster, and waits until the others see it unreachable.</summary>
    public async Task CrashAsync(Node node)
    {
        var address = Cluster.Get(node.System).SelfUniqueAddress;
        _crashed.Add(node.Index);
        await node.System.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
        await WaitUntil(() => Running.All(n => Cluster.Get(n.System).State.Unreachable.Any(m => m.UniqueAddress.Equals(address))),
            $"the others see node {node.Index + 1} unreachable");
    }

    /// <summary>
    /// Removes a crashed node from the cluster (as the split-brain resolver would, after its wait) and waits
    /// until every running node sees it gone.
    /// </summary>
    public async Task RemoveAsync(Node node)
    {
        var address = node.Address;
        Cluster.Get(Running.First().System).Down(address);
        await WaitUntil(() => Running.All(n => Cluster.Get(n.System).State.Members.All(m => m.Address != address)),
            $"every node sees node {node.Index + 1} removed");
    }

    /// <summary>Starts a removed node again on its data directory (same node id, new port) and joins it.</summary>
    public async Task<Node> RestartAsync(Node node, IStorageFaults? faults = null)
    {
        var system = ActorSystem.Create("objectstore", StoreNode.WithNodeRole(NodeConfig, node.Settings.DataDirectory));
        var handles = StoreNode.Start(system, node.Settings, faults);
        var restarted = new Node(node.Index, system, handles, node.Settings, new StoreClient(system, handles.Coordinator, node.Settings));
        _nodes[node.Index] = restarted;
        _crashed.Remove(node.Index);
        Cluster.Get(system).Join(Cluster.Get(Running.First(n => n.Index != node.Index).System).SelfAddress);
        var up = Running.Count();
        await WaitUntil(() => Running.All(n => Cluster.Get(n.System).State.Members.Count(m => m.Status == MemberStatus.Up) == up),
            $"every node sees node {node.Index + 1} Up again");
        return restarted;
    }

    /// <summary>The node ids that own a chunk by placement over all nodes started.</summary>
    public IReadOnlyList<string> OwnersOf(ContentHash chunk, int factor) =>
        ClusterRing.Current(_nodes[0].System, _nodes[0].Id).Candidates(chunk).Take(factor).Select(m => m.NodeId).ToList();

    /// <summary>
    /// Of an object's chunks, the first one <paramref name="reader"/> does not hold, and the first of its owners: the
    /// node a get from the reader fetches it from first (a test damages that copy).
    /// </summary>
    public (ContentHash Id, Node FirstOwner) FarChunk(Node reader, IEnumerable<ContentHash> chunks, int factor)
    {
        var held = reader.ChunkIds();
        var far = chunks.First(id => !held.Contains(id));
        return (far, _nodes.Single(n => n.Id == OwnersOf(far, factor)[0]));
    }

    public IReadOnlyList<string> PlacementOrder(ContentHash chunk) =>
        ClusterRing.Current(_nodes[0].System, _nodes[0].Id).Candidates(chunk).Select(m => m.NodeId).ToList();

    public static async Task WaitUntil(Func<bool> condition, string what, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out after {seconds}s waiting until {what}");
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_nodes.Where(n => !_crashed.Contains(n.Index)).Select(n => n.System.Terminate().WaitAsync(TimeSpan.FromSeconds(30))));
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
    }
}
