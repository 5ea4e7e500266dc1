using Microsoft.Data.Sqlite;

namespace ObjectStore.Core.Metadata;

/// <summary>One copy to make: object version <see cref="VersionId"/> (its metadata and the chunks of it the target owns) on node <see cref="Target"/>.</summary>
/// <param name="Target">A node id; empty when no node exists for the copy yet (fewer storage nodes than the factor).</param>
/// <param name="Bytes">The object's size: what the copy may cost at most, for the rate limit and the estimate of time left.</param>
public sealed record RepairEntry(string VersionId, string Target, string Bucket, string Key, long Bytes, string Reason,
    int Attempts = 0, DateTimeOffset NextTry = default, string LastError = "");

/// <summary>
/// The node's persisted list of copies still to make (in index.db, so it survives kill -9), as Garage's
/// resync queue: entries are added before a put that lacks copies is acknowledged, by anti-entropy, and
/// when a chunk is found corrupt; a worker takes the due ones, and an entry that fails is tried again
/// later with a growing delay. An entry is one object version on one node, because a node keeps a chunk
/// only while an object version it knows references it: a copy is the chunks and the metadata together.
/// </summary>
/// <remarks>Commits with fsync: an entry added before a put's answer must outlive a power cut. Not thread-safe.</remarks>
public sealed class RepairQueue : IDisposable
{
    private readonly SqliteConnection _db;

    public RepairQueue(string dataDirectory)
    {
        _db = IndexDatabase.Open(dataDirectory, synchronousFull: true);
    }

    /// <summary>Adds entries in one transaction. An entry already queued keeps its attempts and next try (the work is the same).</summary>
    public void Add(IReadOnlyCollection<RepairEntry> entries, DateTimeOffset now)
    {
        if (entries.Count == 0) return;
        using var tx = _db.BeginTransaction();
        using var cmd = IndexDatabase.Command(_db, """
            INSERT OR IGNORE INTO repair_queue(version_id, target, bucket, key, bytes, reason, attempts, next_ms, added_ms)
            VALUES ($v, $t, $b, $k, $n, $r, 0, $next, $now)
            """, tx);
        var v = cmd.Parameters.Add("$v", SqliteType.Text);
        var t = cmd.Parameters.Add("$t", SqliteType.Text);
        var b = cmd.Parameters.Add("$b", SqliteType.Text);
        var k = cmd.Parameters.Add("$k", SqliteType.Text);
        var n = cmd.Parameters.Add("$n", SqliteType.Integer);
        var r = cmd.Parameters.Add("$r", SqliteType.Text);
        var next = cmd.Parameters.Add("$next", SqliteType.Integer);
        cmd.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        foreach (var e in entries)
        {
            (v.Value, t.Value, b.Value, k.Value, n.Value, r.Value) = (e.VersionId, e.Target, e.Bucket, e.Key, e.Bytes, e.Reason);
            next.Value = (e.NextTry == default ? now : e.NextTry).ToUnixTimeMilliseconds();
            cmd.ExecuteNonQuery();
        }
        tx.Commit();
    }

    /// <summary>Entries whose next try has come, oldest first, skipping <paramref name="busy"/> ones.</summary>
    public IReadOnlyList<RepairEntry> Due(DateTimeOffset now, int limit, IReadOnlySet<(string VersionId, string Target)>? busy = null)
    {
        using var cmd = IndexDatabase.Command(_db, """
            SELECT version_id, target, bucket, key, bytes, reason, attempts, next_ms, last_error FROM repair_queue
            WHERE next_ms <= $now ORDER BY next_ms LIMIT $limit
            """);
        cmd.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$limit", limit + (busy?.Count ?? 0));
        var result = new List<RepairEntry>();
        foreach (var e in Read(cmd))
        {
            if (busy is not null && busy.Contains((e.VersionId, e.Target))) continue;
            result.Add(e);
            if (result.Count == limit) break;
        }
        return result;
    }

    /// <summary>The copy is made (or no longer needed).</summary>
    public void Remove(string versionId, string target)
    {
        using var cmd = IndexDatabase.Command(_db, "DELETE FROM repair_queue WHERE version_id=$v AND target=$t");
        cmd.Parameters.AddWithValue("$v", versionId);
        cmd.Parameters.AddWithValue("$t", target);
        cmd.ExecuteNonQuery();
    }

    /// <summary>The attempt failed: tried again after <paramref name="delay"/>, with the reason kept for `status`.</summary>
    public void Retry(string versionId, string target, string error, TimeSpan delay, DateTimeOffset now)
    {
        using var cmd = IndexDatabase.Command(_db, """
            UPDATE repair_queue SET attempts = attempts + 1, next_ms = $next, last_error = $e WHERE version_id=$v AND target=$t
            """);
        cmd.Parameters.AddWithValue("$v", versionId);
        cmd.Parameters.AddWithValue("$t", target);
        cmd.Parameters.AddWithValue("$e", error.Length > 300 ? error[..300] : error);
        cmd.Parameters.AddWithValue("$next", (now + delay).ToUnixTimeMilliseconds());
        cmd.ExecuteNonQuery();
    }

    /// <summary>The target is back (or, for the empty target, a node joined): its waiting copies are due now and start their backoff again.</summary>
    public void WakeTarget(string target, DateTimeOffset now)
    {
        using var cmd = IndexDatabase.Command(_db, "UPDATE repair_queue SET next_ms = $now, attempts = 0 WHERE target=$t AND next_ms > $now");
        cmd.Parameters.AddWithValue("$t", target);
        cmd.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        cmd.ExecuteNonQuery();
    }

    /// <summary>Per target node (empty: no node yet): entries and bytes waiting.</summary>
    public IReadOnlyDictionary<string, (long Entries, long Bytes)> Backlog()
    {
        using var cmd = IndexDatabase.Command(_db, "SELECT target, COUNT(*), COALESCE(SUM(bytes), 0) FROM repair_queue GROUP BY target");
        using var reader = cmd.ExecuteReader();
        var result = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        while (reader.Read()) result[reader.GetString(0)] = (reader.GetInt64(1), reader.GetInt64(2));
        return result;
    }

    public long Count()
    {
        using var cmd = IndexDatabase.Command(_db, "SELECT COUNT(*) FROM repair_queue");
        return Convert.ToInt64(cmd.ExecuteScalar());
    }

    private static IEnumerable<RepairEntry> Read(SqliteCommand cmd)
    {
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
            yield return new RepairEntry(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt64(4),
                reader.GetString(5), reader.GetInt32(6), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(7)), reader.GetString(8));
    }

    public void Dispose() => _db.Dispose();
}
