using Microsoft.Data.Sqlite;
using ObjectStore.Core.Hashing;

namespace ObjectStore.Core.Metadata;

/// <summary>Deletes: versioned delete markers that win over older versions, kept for a while and then expired.</summary>
public sealed partial class ObjectIndex
{
    /// <summary>Removes a key. Returns null when it did not exist, else the chunks nothing references any more.</summary>
    public IReadOnlyList<ContentHash>? Delete(string bucket, string key) =>
        Delete(DeleteMarker.New(bucket, key, ""));

    /// <summary>
    /// Deletes the key's version if the marker is newer, and keeps the marker in its place so that
    /// older versions arriving later are refused. Returns null, changing nothing, when there was no
    /// older version to delete; else the chunks nothing references any more.
    /// </summary>
    public IReadOnlyList<ContentHash>? Delete(DeleteMarker marker)
    {
        using var tx = _db.BeginTransaction();
        var existing = TryGet(marker.Bucket, marker.Key, tx);
        if (existing is null || !marker.IsNewerThan(existing))
        {
            tx.Rollback();
            return null;
        }
        if (TryGetDeleteMarker(marker.Bucket, marker.Key, tx) is not { } kept || marker.IsNewerThan(kept))
        {
            using var upsert = Command("""
                INSERT INTO delete_markers(bucket, key, version_id, created_ms, writer) VALUES ($b, $k, $v, $c, $w)
                ON CONFLICT(bucket, key) DO UPDATE SET version_id = excluded.version_id, created_ms = excluded.created_ms, writer = excluded.writer
                """, tx);
            upsert.Parameters.AddWithValue("$b", marker.Bucket);
            upsert.Parameters.AddWithValue("$k", marker.Key);
            upsert.Parameters.AddWithValue("$v", marker.VersionId);
            upsert.Parameters.AddWithValue("$c", marker.Created.ToUnixTimeMilliseconds());
            upsert.Parameters.AddWithValue("$w", marker.Writer);
            upsert.ExecuteNonQuery();
        }
        DeleteKey(marker.Bucket, marker.Key, tx);
        var unreferenced = Unreferenced(existing.Chunks.Select(c => c.Id), tx);
        tx.Commit();
        return unreferenced;
    }

    /// <summary>The key's delete marker, if it was deleted (and not put again since).</summary>
    public DeleteMarker? TryGetDeleteMarker(string bucket, string key) => TryGetDeleteMarker(bucket, key, null);

    private DeleteMarker? TryGetDeleteMarker(string bucket, string key, SqliteTransaction? tx)
    {
        var cmd = Statement("SELECT version_id, created_ms, writer FROM delete_markers WHERE bucket=$b AND key=$k", tx);
        cmd.Parameters.AddWithValue("$b", bucket);
        cmd.Parameters.AddWithValue("$k", key);
        using var reader = cmd.ExecuteReader();
        return reader.Read()
            ? new DeleteMarker(bucket, key, reader.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)), reader.GetString(2))
            : null;
    }

    /// <summary>Delete markers of a bucket whose keys start with the prefix, in (after, upTo] (upTo null: no upper bound).</summary>
    public IReadOnlyList<DeleteMarker> ListDeleteMarkers(string bucket, string prefix, string? startAfter, string? upTo)
    {
        var range = new KeyRange(prefix, startAfter, upTo);
        using var cmd = Command($"SELECT key, version_id, created_ms, writer FROM delete_markers WHERE bucket=$b AND {range.Sql} ORDER BY key");
        cmd.Parameters.AddWithValue("$b", bucket);
        range.Bind(cmd);
        var result = new List<DeleteMarker>();
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
            result.Add(new DeleteMarker(bucket, reader.GetString(0), reader.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)), reader.GetString(3)));
        return result;
    }

    /// <summary>Drops the delete markers created before <paramref name="cutoff"/>; returns how many.</summary>
    public int ExpireDeleteMarkers(DateTimeOffset cutoff)
    {
        using var cmd = Command("DELETE FROM delete_markers WHERE created_ms < $c", null);
        cmd.Parameters.AddWithValue("$c", cutoff.ToUnixTimeMilliseconds());
        return cmd.ExecuteNonQuery();
    }

    private void RemoveDeleteMarker(string bucket, string key, SqliteTransaction tx)
    {
        var cmd = Statement("DELETE FROM delete_markers WHERE bucket=$b AND key=$k", tx);
        cmd.Parameters.AddWithValue("$b", bucket);
        cmd.Parameters.AddWithValue("$k", key);
        cmd.ExecuteNonQuery();
    }
}
