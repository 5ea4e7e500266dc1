using ObjectStore.Core.Hashing;

namespace ObjectStore.Core.Metadata;

/// <summary>An object version a node holds, with the ids of its chunks (for anti-entropy).</summary>
public sealed record HeldVersion(string Bucket, string Key, string VersionId, long Size, IReadOnlyList<ContentHash> Chunks);

/// <summary>Everything a node's index holds: its current versions and its delete markers.</summary>
public sealed record NodeHoldings(IReadOnlyList<HeldVersion> Versions, IReadOnlyList<DeleteMarker> Markers);

public sealed partial class ObjectIndex
{
    private WeakReference<NodeHoldings>? _lastHoldings;
    private long _lastHoldingsAt = -1;

    /// <summary>
    /// Every current version with its chunk ids, and every delete marker, read in one pass each. A snapshot
    /// read since the index last changed is handed out again while anyone still holds it: after a membership
    /// change this node's anti-entropy pass and every peer's sync session ask at about the same time, and
    /// each copy of 100,000 versions was tens of MB.
    /// </summary>
    public NodeHoldings Holdings()
    {
        var changes = TotalChanges();
        if (_lastHoldingsAt == changes && _lastHoldings is not null && _lastHoldings.TryGetTarget(out var same)) return same;
        var fresh = ReadHoldings();
        (_lastHoldings, _lastHoldingsAt) = (new WeakReference<NodeHoldings>(fresh), changes);
        return fresh;
    }

    /// <summary>Rows changed through this connection since it opened (every write of the index goes through it).</summary>
    private long TotalChanges()
    {
        using var cmd = Command("SELECT total_changes()");
        return Convert.ToInt64(cmd.ExecuteScalar());
    }

    private NodeHoldings ReadHoldings()
    {
        var versions = new List<HeldVersion>();
        using (var cmd = Command("""
            SELECT o.bucket, o.key, o.version_id, o.size, c.chunk FROM objects o
            LEFT JOIN object_chunks c ON c.version_id = o.version_id ORDER BY o.version_id, c.seq
            """))
        using (var reader = cmd.ExecuteReader())
        {
            HeldVersion? current = null;
            List<ContentHash>? chunks = null;
            while (reader.Read())
            {
                var versionId = reader.GetString(2);
                if (current?.VersionId != versionId)
                {
                    chunks = [];
                    current = new HeldVersion(reader.GetString(0), reader.GetString(1), versionId, reader.GetInt64(3), chunks);
                    versions.Add(current);
                }
                if (!reader.IsDBNull(4)) chunks!.Add(ContentHash.FromBytes((byte[])reader[4]));
            }
        }
        var markers = new List<DeleteMarker>();
        using (var cmd = Command("SELECT bucket, key, version_id, created_ms, writer FROM delete_markers"))
        using (var reader = cmd.ExecuteReader())
            while (reader.Read())
                markers.Add(new DeleteMarker(reader.GetString(0), reader.GetString(1), reader.GetString(2),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)), reader.GetString(4)));
        return new NodeHoldings(versions, markers);
    }

    /// <summary>Up to <paramref name="limit"/> current versions that list the chunk (to repair it, a version to copy).</summary>
    public IReadOnlyList<HeldVersion> VersionsWithChunk(ContentHash chunk, int limit)
    {
        using var cmd = Command("""
            SELECT DISTINCT o.bucket, o.key, o.version_id, o.size FROM object_chunks c JOIN objects o ON o.version_id = c.version_id
            WHERE c.chunk = $c LIMIT $limit
            """);
        cmd.Parameters.AddWithValue("$c", chunk.ToArray());
        cmd.Parameters.AddWithValue("$limit", limit);
        using var reader = cmd.ExecuteReader();
        var result = new List<HeldVersion>();
        while (reader.Read()) result.Add(new HeldVersion(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3), []));
        return result;
    }
}
