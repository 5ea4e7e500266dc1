using ObjectStore.Core.Hashing;

namespace ObjectStore.Core.Placement;

/// <summary>
/// Whether a put may be acknowledged once its metadata has gone out: the write quorum of the key's owners
/// committed it, and for every chunk, the quorum of the nodes that hold it committed it too (a node keeps a
/// chunk only while an object version it knows references it, so a chunk counts where the metadata landed).
/// </summary>
public static class PutQuorum
{
    /// <returns>What falls short, in words; empty when the put holds.</returns>
    public static IReadOnlyList<string> Shortfalls(IReadOnlySet<string> committed, IReadOnlyCollection<string> keyOwners,
        IReadOnlyDictionary<ContentHash, IReadOnlyList<string>> chunkHolders, int quorum)
    {
        var problems = new List<string>();
        var keyCopies = keyOwners.Count(committed.Contains);
        if (keyCopies < quorum) problems.Add($"its metadata is durable on {keyCopies} node(s), the write quorum is {quorum}");
        var weak = chunkHolders.Count(c => c.Value.Count(committed.Contains) < quorum);
        if (weak > 0) problems.Add($"{weak} chunk(s) are referenced on fewer than {quorum} nodes");
        return problems;
    }
}
