using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;
using ObjectStore.Core.Placement;

namespace ObjectStore.Core.Sync;

/// <summary>
/// What a node holds but no longer should: object versions it is not among the holders of (<see cref="VersionOwners"/>)
/// — a hand-off copy, or one whose ownership moved to a node that joined — and chunk files it does not own
/// though it keeps a version listing them. Each may go only once every current owner confirms its own copy.
/// </summary>
public sealed class ExcessCopies
{
    public ExcessCopies(NodeHoldings holdings, Func<ContentHash, bool> onDisk, RendezvousPlacement placement, int factor, string self)
    {
        var versions = new List<(HeldVersion, IReadOnlyList<string>)>();
        var chunks = new Dictionary<ContentHash, (HeldVersion Version, IReadOnlyList<string> Owners)>();
        foreach (var version in holdings.Versions)
        {
            var nodes = VersionOwners.NodesFor(placement, version.Bucket, version.Key, version.Chunks, factor);
            if (!nodes.Contains(self, StringComparer.Ordinal))
            {
                versions.Add((version, nodes));
                continue;
            }
            foreach (var chunk in version.Chunks)
            {
                if (chunks.ContainsKey(chunk)) continue;
                var owners = placement.OwnersOf(chunk, factor);
                if (!owners.Contains(self, StringComparer.Ordinal) && onDisk(chunk)) chunks[chunk] = (version, owners);
            }
        }
        Versions = versions;
        Chunks = chunks;
    }

    /// <summary>Versions this node should not hold, with the nodes that should.</summary>
    public IReadOnlyList<(HeldVersion Version, IReadOnlyList<string> Holders)> Versions { get; }

    /// <summary>Chunk files this node does not own, with a version here that lists each and the chunk's owners.</summary>
    public IReadOnlyDictionary<ContentHash, (HeldVersion Version, IReadOnlyList<string> Owners)> Chunks { get; }

    public bool IsEmpty => Versions.Count == 0 && Chunks.Count == 0;
}
