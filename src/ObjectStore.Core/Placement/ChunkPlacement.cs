
namespace ObjectStore.Core.Placement;

/// <summary>A node as a write sees it: its stable id and whether it answers now.</summary>
/// <param name="LastResort">Reachable but slow (a put found it late): not a target, only the last node a failed write is handed to.</param>
public readonly record struct Candidate(string NodeId, bool Reachable, bool LastResort = false);

/// <summary>
/// Where one chunk of a put goes, and whether enough copies of it are durable. Its owners are the first
/// <c>factor</c> nodes of its rendezvous order; an owner that is unreachable, or whose write fails, is
/// replaced by the next reachable node in the order (hand-off), so the factor is still met where it can be.
/// Once the write quorum holds it, targets still writing may be declared late (<see cref="GiveUpOnLate"/>):
/// the put goes on without them and their copies are made in the background.
/// </summary>
public sealed class ChunkPlacement
{
    private readonly Queue<string> _spare;
    private readonly int _quorum;
    private readonly List<string> _holders = [];
    private readonly List<string> _failures = [];
    private readonly HashSet<string> _pending = new(StringComparer.Ordinal);
    private readonly List<string> _late = [];

    /// <param name="order">Every node, best owner first (<see cref="RendezvousPlacement.OwnersOf(Hashing.ContentHash)"/>).</param>
    public ChunkPlacement(IReadOnlyList<Candidate> order, int factor, int quorum)
    {
        _quorum = quorum;
        var (targets, spare) = Choose(order, factor);
        _spare = new Queue<string>(spare);
        Targets = targets;
        foreach (var target in targets) _pending.Add(target);
    }

    /// <summary>The first <paramref name="factor"/> reachable nodes of an order, then the reachable rest as hand-off candidates, last-resort ones last.</summary>
    public static (List<string> Targets, List<string> Spare) Choose(IReadOnlyList<Candidate> order, int factor)
    {
        var targets = order.Take(factor).Where(n => n.Reachable && !n.LastResort).Select(n => n.NodeId).ToList();
        var spare = order.Skip(factor).Where(n => n.Reachable && !n.LastResort).Select(n => n.NodeId).ToList();
        while (targets.Count < factor && spare.Count > 0)
        {
            targets.Add(spare[0]);
            spare.RemoveAt(0);
        }
        spare.AddRange(order.Where(n => n.Reachable && n.LastResort).Select(n => n.NodeId));
        return (targets, spare);
    }

    /// <summary>The nodes to write to first.</summary>
    public IReadOnlyList<string> Targets { get; }

    /// <summary>Whether a failed write could still be handed to another node (then the bytes must be kept).</summary>
    public bool CanHandOff => _spare.Count > 0;

    public IReadOnlyList<string> Holders => _holders;
    public IReadOnlyList<string> Failures => _failures;

    /// <summary>Targets the put stopped waiting for (<see cref="GiveUpOnLate"/>).</summary>
    public IReadOnlyList<string> Late => _late;

    /// <summary>Every write started has answered or was given up on.</summary>
    public bool Finished => _pending.Count == 0;

    /// <summary>Writes still running.</summary>
    public IReadOnlyCollection<string> Pending => _pending;

    /// <summary>The quorum holds: the writes still running are given up on (their copies are left to the repair queue). Returns them.</summary>
    public IReadOnlyList<string> GiveUpOnLate()
    {
        if (!QuorumMet) return [];
        var late = _pending.ToList();
        _pending.Clear();
        _late.AddRange(late);
        return late;
    }

    public bool QuorumMet => _holders.Count >= _quorum;

    /// <summary>A node made the chunk durable.</summary>
    public void Stored(string node)
    {
        if (_pending.Remove(node)) _holders.Add(node);
    }

    /// <summary>A node's write failed for good; returns the node to hand the chunk to instead, if any is left.</summary>
    public string? Failed(string node, string reason)
    {
        if (!_pending.Remove(node)) return null;
        _failures.Add($"{node}: {reason}");
        if (!_spare.TryDequeue(out var next)) return null;
        _pending.Add(next);
        return next;
    }
}
