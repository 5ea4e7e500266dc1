using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using ObjectStore.Core.Hashing;

namespace ObjectStore.Core.Placement;

/// <summary>
/// Rendezvous (highest random weight) hashing: every node gets a score for a key, and the key's owners
/// are the nodes in descending score order. When a node joins or leaves, only the keys for which it
/// is (or was) among the top <c>factor</c> move — about factor/N of them — and every node computes the
/// same owner list from the same membership, with no shared table to keep in sync.
/// </summary>
/// <remarks>
/// Chosen over Garage/Swift-style partitions because membership here changes one node at a time and
/// the node count is small (tens), where scoring every node per key is cheap (XxHash64, ~20 ns each).
/// Node ids, not addresses, are hashed, so a node restarted on the same data directory owns the same keys.
/// </remarks>
public sealed class RendezvousPlacement
{
    private readonly string[] _nodes;
    private readonly ulong[] _nodeSeeds;

    public RendezvousPlacement(IEnumerable<string> nodeIds)
    {
        _nodes = nodeIds.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        _nodeSeeds = _nodes.Select(n => XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(n))).ToArray();
    }

    public IReadOnlyList<string> Nodes => _nodes;

    /// <summary>The owners of a chunk, best first: the first <paramref name="factor"/> hold it; the rest are hand-off candidates in order.</summary>
    public IReadOnlyList<string> OwnersOf(ContentHash chunk, int factor = int.MaxValue)
    {
        Span<byte> key = stackalloc byte[ContentHash.Size];
        chunk.WriteTo(key);
        return Rank(key, factor);
    }

    /// <summary>The owners of an object key's metadata, best first.</summary>
    public IReadOnlyList<string> OwnersOf(string bucket, string key, int factor = int.MaxValue) =>
        Rank(Encoding.UTF8.GetBytes($"{bucket}/{key}"), factor);

    private IReadOnlyList<string> Rank(ReadOnlySpan<byte> key, int factor)
    {
        var count = Math.Min(factor, _nodes.Length);
        if (count <= 0) return [];
        var scores = new (ulong Score, int Node)[_nodes.Length];
        for (var i = 0; i < _nodes.Length; i++)
            scores[i] = (XxHash64.HashToUInt64(key, unchecked((long)_nodeSeeds[i])), i);
        // Highest score first; ties (vanishingly rare) broken by node id order so every node agrees.
        Array.Sort(scores, (a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Node.CompareTo(b.Node));
        var owners = new string[count];
        for (var i = 0; i < count; i++) owners[i] = _nodes[scores[i].Node];
        return owners;
    }
}
