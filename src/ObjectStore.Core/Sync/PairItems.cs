using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;
using ObjectStore.Core.Placement;

namespace ObjectStore.Core.Sync;

/// <summary>
/// What one node should have in common with one peer, as anti-entropy items: the chunks on its disk that
/// both own, the object versions both should hold (<see cref="VersionOwners"/>), and the delete markers of
/// keys both own. Both sides compute it with the same placement, so in sync their trees agree; an item only
/// one side has is a copy to make. The same rule both ways: it depends on the pair, not on who asks.
/// </summary>
public sealed class PairItems
{
    private readonly Dictionary<ulong, HeldVersion> _versions = new();
    private readonly Dictionary<ulong, HeldVersion> _versionOfChunk = new();
    private readonly Dictionary<ulong, DeleteMarker> _markers = new();
    private readonly Dictionary<ulong, ContentHash> _chunkOfItem = new();

    public PairItems(NodeHoldings holdings, Func<ContentHash, bool> onDisk, RendezvousPlacement placement, int factor, string self, string peer)
    {
        var items = new List<ulong>();
        var chunkOwners = new Dictionary<ContentHash, bool>();
        bool BothOwn(ContentHash chunk)
        {
            if (chunkOwners.TryGetValue(chunk, out var both)) return both;
            var owners = placement.OwnersOf(chunk, factor);
            return chunkOwners[chunk] = owners.Contains(self, StringComparer.Ordinal) && owners.Contains(peer, StringComparer.Ordinal);
        }
        foreach (var version in holdings.Versions)
        {
            var nodes = VersionOwners.NodesFor(placement, version.Bucket, version.Key, version.Chunks, factor);
            if (!nodes.Contains(self, StringComparer.Ordinal) || !nodes.Contains(peer, StringComparer.Ordinal)) continue;
            var item = SyncItem.OfVersion(version.VersionId);
            _versions[item] = version;
            items.Add(item);
            foreach (var chunk in version.Chunks)
            {
                if (!BothOwn(chunk)) continue;
                var chunkItem = SyncItem.OfChunk(chunk);
                if (_versionOfChunk.ContainsKey(chunkItem) || !onDisk(chunk)) continue;
                _versionOfChunk[chunkItem] = version;
                _chunkOfItem[chunkItem] = chunk;
                items.Add(chunkItem);
            }
        }
        foreach (var marker in holdings.Markers)
        {
            var owners = placement.OwnersOf(marker.Bucket, marker.Key, factor);
            if (!owners.Contains(self, StringComparer.Ordinal) || !owners.Contains(peer, StringComparer.Ordinal)) continue;
            var item = SyncItem.OfDeleteMarker(marker.Bucket, marker.Key, marker.VersionId);
            _markers[item] = marker;
            items.Add(item);
        }
        Tree = new DigestTree(items);
    }

    public DigestTree Tree { get; }

    /// <summary>
    /// What an item the peer lacks asks for: a version to copy there (for a chunk, one version that lists it,
    /// and the chunk), or a delete to apply there.
    /// </summary>
    public (HeldVersion? Version, ContentHash? Chunk, DeleteMarker? Marker) Resolve(ulong item) =>
        _versions.TryGetValue(item, out var v) ? (v, null, null)
        : _versionOfChunk.TryGetValue(item, out var c) ? (c, _chunkOfItem[item], null)
        : _markers.TryGetValue(item, out var m) ? (null, null, m)
        : (null, null, null);
}
