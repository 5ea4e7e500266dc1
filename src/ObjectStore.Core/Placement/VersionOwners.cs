using ObjectStore.Core.Hashing;

namespace ObjectStore.Core.Placement;

/// <summary>
/// Which nodes should hold an object version, and what of it: its metadata goes to the key's owners and to
/// the owners of each of its chunks (a node keeps a chunk only while a version it knows references it), and
/// each chunk to its own owners. The one rule the put, the repair worker and anti-entropy share.
/// </summary>
public static class VersionOwners
{
    /// <summary>Every node that should hold the version, key owners first, each once.</summary>
    public static IReadOnlyList<string> NodesFor(RendezvousPlacement placement, string bucket, string key, IEnumerable<ContentHash> chunks, int factor)
    {
        var nodes = new List<string>(placement.OwnersOf(bucket, key, factor));
        var seen = new HashSet<string>(nodes, StringComparer.Ordinal);
        foreach (var chunk in chunks.Distinct())
        {
            if (seen.Count == placement.Nodes.Count) break;
            foreach (var owner in placement.OwnersOf(chunk, factor))
                if (seen.Add(owner)) nodes.Add(owner);
        }
        return nodes;
    }

    /// <summary>The chunks of the version that <paramref name="node"/> owns, each once.</summary>
    public static IReadOnlyList<ContentHash> ChunksFor(RendezvousPlacement placement, string node, IEnumerable<ContentHash> chunks, int factor) =>
        chunks.Distinct().Where(c => placement.OwnersOf(c, factor).Contains(node, StringComparer.Ordinal)).ToList();
}
