using System.Diagnostics;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Placement;

// Usage: dotnet run -c Release --project tests/ObjectStore.PlacementScale [-- CHUNKS [FACTOR]]
// Places CHUNKS random chunk ids (default 1,000,000) with the store's RendezvousPlacement on N nodes and
// reports, for each N: the share of all copies that move when one node joins and when one leaves (the
// ideal is the joining or leaving node's share, 1/(N+1) and 1/N), and the spread of load (copies on the
// fullest node over the mean).
// `-- sync`: the cost of one anti-entropy comparison of 100,000 items, in sync and one item apart.
if (args is ["sync", ..])
{
    var rng = new Random(7);
    var items = Enumerable.Range(0, 100_000).Select(_ => (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 63)).ToArray();
    foreach (var (label, peer) in new[] { ("in sync", items), ("one missing", items.Skip(1).ToArray()) })
    {
        var exchange = new ObjectStore.Core.Sync.DigestExchange(new ObjectStore.Core.Sync.DigestTree(items));
        var theirs = new ObjectStore.Core.Sync.DigestTree(peer);
        long wire = 0;
        while (!exchange.Done)
        {
            var request = exchange.NextRequest(128);
            var answers = ObjectStore.Core.Sync.DigestExchange.Answer(theirs, request);
            // Wire sizes: a digest 25 bytes (prefix 8, depth 1, count 8, hash 8), an item 8, an answer's range 9.
            wire += request.Count * 25L + answers.Sum(a => 9 + (a.Children?.Count ?? 0) * 25L + (a.Items?.Count ?? 0) * 8L);
            exchange.Take(answers);
        }
        Console.WriteLine($"100,000 items, {label}: {exchange.Rounds} round trip(s), {wire:N0} bytes, {exchange.PeerLacks.Count} difference(s)");
    }
    return;
}
var chunks = args.Length > 0 ? int.Parse(args[0]) : 1_000_000;
var factor = args.Length > 1 ? int.Parse(args[1]) : 3;
var random = new Random(42);
var ids = new ContentHash[chunks];
var bytes = new byte[32];
for (var i = 0; i < chunks; i++)
{
    random.NextBytes(bytes);
    ids[i] = ContentHash.FromBytes(bytes);
}

string[] Nodes(int n) => Enumerable.Range(1, n).Select(i => $"node-{i:x12}").ToArray();

// Which nodes hold each chunk's copies, as a set per chunk.
string[][] Place(string[] nodes)
{
    var placement = new RendezvousPlacement(nodes);
    var result = new string[chunks][];
    Parallel.For(0, chunks, i => result[i] = placement.OwnersOf(ids[i], factor).ToArray());
    return result;
}

static long Moved(string[][] before, string[][] after)
{
    long moved = 0;
    for (var i = 0; i < before.Length; i++) moved += after[i].Count(n => !before[i].Contains(n));
    return moved;
}

static double Spread(string[][] placed, int nodes)
{
    var load = new Dictionary<string, long>();
    foreach (var owners in placed)
    foreach (var n in owners)
        load[n] = load.GetValueOrDefault(n) + 1;
    return load.Values.Max() / (load.Values.Sum() / (double)nodes);
}

Console.WriteLine($"{chunks:N0} chunks, factor {factor}; moved = copies that change node, as a share of all copies");
Console.WriteLine($"{"nodes",5} {"join moved",11} {"ideal",7} {"leave moved",12} {"ideal",7} {"max/mean",9} {"seconds",8}");
foreach (var n in new[] { 3, 4, 5, 6, 8, 10, 16, 20, 32, 50, 64, 100 })
{
    var clock = Stopwatch.StartNew();
    var nodes = Nodes(n + 1);
    var baseNodes = nodes[..n];
    var basePlaced = Place(baseNodes);
    var joined = Place(nodes);
    var left = Place(baseNodes[1..]);
    var total = (double)chunks * Math.Min(factor, n);
    var joinMoved = Moved(basePlaced, joined) / total;
    var leaveMoved = Moved(basePlaced, left) / total;
    // With fewer nodes than the factor's worth after a leave, every node holds everything: nothing to compare.
    var leaveIdeal = n - 1 >= factor ? 1.0 / n : double.NaN;
    var leaveIdealText = double.IsNaN(leaveIdeal) ? "-" : leaveIdeal.ToString("P2");
    Console.WriteLine($"{n,5} {joinMoved,11:P2} {1.0 / (n + 1),7:P2} {leaveMoved,12:P2} {leaveIdealText,7} {Spread(basePlaced, n),9:0.000} {clock.Elapsed.TotalSeconds,8:0.0}");
}
