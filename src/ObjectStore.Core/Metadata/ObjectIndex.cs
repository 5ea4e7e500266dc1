using Microsoft.Data.Sqlite;
using ObjectStore.Core.Hashing;

namespace ObjectStore.Core.Metadata;

/// <summary>
/// The node's object metadata in SQLite (WAL mode, synchronous=FULL: a committed put survives a
/// crash or power loss, and readers never see half a put). One object's row and its chunk list are
/// written in one transaction. Keys live only in the database, never in a file path.
/// </summary>
/// <remarks>Not thread-safe: one owner (the storage actor) uses it.</remarks>
public sealed class ObjectIndex : IDisposable
{
    private readonly SqliteConnection _db;

    public ObjectIndex(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        FilePath = System.IO.Path.Combine(System.IO.Path.GetFullPath(dataDirectory), "index.db");
        _db = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = FilePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString());
        _db.Open();
        Execute("PRAGMA journal_mode=WAL;");
        Execute("PRAGMA synchronous=FULL;");
        Execute("PRAGMA foreign_keys=ON;");
        Execute("""
            CREATE TABLE IF NOT EXISTS objects(
                bucket TEXT NOT NULL,
                key TEXT NOT NULL,
                version_id TEXT NOT NULL UNIQUE,
                size INTEGER NOT NULL,
                sha256 BLOB NOT NULL,
                created_ms INTEGER NOT NULL,
                chunk_count INTEGER NOT NULL,
                PRIMARY KEY(bucket, key)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS object_chunks(
                version_id TEXT NOT NULL REFERENCES objects(version_id) ON DELETE CASCADE,
                seq INTEGER NOT NULL,
                chunk BLOB NOT NULL,
                length INTEGER NOT NULL,
                PRIMARY KEY(version_id, seq)) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS object_chunks_by_chunk ON object_chunks(chunk);
            """);
        // A deleted key keeps a marker, so an older version arriving later (a replica from a node that
        // was down during the delete) is refused instead of bringing the object back.
        Execute("""
            CREATE TABLE IF NOT EXISTS delete_markers(
                bucket TEXT NOT NULL,
                key TEXT NOT NULL,
                version_id TEXT NOT NULL,
                created_ms INTEGER NOT NULL,
                writer TEXT NOT NULL,
                PRIMARY KEY(bucket, key)) WITHOUT ROWID;
            """);
        // Indexes created before replication lack the writer column (the node that took the put).
        if (!HasColumn("objects", "writer")) Execute("ALTER TABLE objects ADD COLUMN writer TEXT NOT NULL DEFAULT ''");
    }

    /// <summary>What a commit did: whether the manifest is now the key's current version, and chunks nothing references any more.</summary>
    public sealed record CommitResult(bool Current, IReadOnlyList<ContentHash> Unreferenced);

    public string FilePath { get; }

    /// <summary>
    /// Makes <paramref name="manifest"/> the current version of its key, atomically, unless the key
    /// already has that version or a newer one (last writer wins, <see cref="ObjectManifest.IsNewerThan"/>):
    /// replicas of one put may arrive in any order, and twice. Returns whether the manifest is current,
    /// and the chunks of the replaced (or refused) version that no object references any more.
    /// </summary>
    public CommitResult Commit(ObjectManifest manifest) => CommitMany([manifest])[0];

    /// <summary>
    /// <see cref="Commit"/> for several manifests in one transaction: one flush of the database for all
    /// of them (a tree of small files puts hundreds per second). All or none are applied.
    /// </summary>
    /// <param name="beforeEach">Called inside the transaction before each manifest; an exception rolls all back.</param>
    public IReadOnlyList<CommitResult> CommitMany(IReadOnlyList<ObjectManifest> manifests, Action<ObjectManifest>? beforeEach = null)
    {
        using var tx = _db.BeginTransaction();
        var results = new List<CommitResult>(manifests.Count);
        foreach (var manifest in manifests)
        {
            beforeEach?.Invoke(manifest);
            results.Add(CommitIn(manifest, tx));
        }
        tx.Commit();
        return results;
    }

    private CommitResult CommitIn(ObjectManifest manifest, SqliteTransaction tx)
    {
        if (TryGetDeleteMarker(manifest.Bucket, manifest.Key, tx) is { } deleted)
        {
            if (deleted.IsNewerThan(manifest)) return new CommitResult(false, Unreferenced(manifest.Chunks.Select(c => c.Id), tx));
            RemoveDeleteMarker(manifest.Bucket, manifest.Key, tx);
        }
        var existing = TryGet(manifest.Bucket, manifest.Key, tx);
        if (existing is not null && (existing.VersionId == manifest.VersionId || existing.IsNewerThan(manifest)))
        {
            var refused = existing.VersionId == manifest.VersionId ? [] : Unreferenced(manifest.Chunks.Select(c => c.Id), tx);
            return new CommitResult(existing.VersionId == manifest.VersionId, refused);
        }
        var previous = existing?.Chunks.Select(c => c.Id).ToList() ?? [];
        DeleteKey(manifest.Bucket, manifest.Key, tx);

        using (var insert = Command("""
            INSERT INTO objects(bucket, key, version_id, size, sha256, created_ms, chunk_count, writer)
            VALUES ($b, $k, $v, $s, $h, $c, $n, $w)
            """, tx))
        {
            insert.Parameters.AddWithValue("$w", manifest.Writer);
            insert.Parameters.AddWithValue("$b", manifest.Bucket);
            insert.Parameters.AddWithValue("$k", manifest.Key);
            insert.Parameters.AddWithValue("$v", manifest.VersionId);
            insert.Parameters.AddWithValue("$s", manifest.Size);
            insert.Parameters.AddWithValue("$h", manifest.Sha256.ToArray());
            insert.Parameters.AddWithValue("$c", manifest.Created.ToUnixTimeMilliseconds());
            insert.Parameters.AddWithValue("$n", manifest.Chunks.Count);
            insert.ExecuteNonQuery();
        }

        using (var chunk = Command("INSERT INTO object_chunks(version_id, seq, chunk, length) VALUES ($v, $i, $c, $l)", tx))
        {
            var v = chunk.Parameters.Add("$v", SqliteType.Text);
            var i = chunk.Parameters.Add("$i", SqliteType.Integer);
            var c = chunk.Parameters.Add("$c", SqliteType.Blob);
            var l = chunk.Parameters.Add("$l", SqliteType.Integer);
            v.Value = manifest.VersionId;
            for (var seq = 0; seq < manifest.Chunks.Count; seq++)
            {
                i.Value = seq;
                c.Value = manifest.Chunks[seq].Id.ToArray();
                l.Value = manifest.Chunks[seq].Length;
                chunk.ExecuteNonQuery();
            }
        }

        return new CommitResult(true, Unreferenced(previous, tx));
    }

    /// <summary>
    /// Removes one version of a key if it is still the current one (undoing a put that failed its
    /// quorum). Returns null when the key has another version or none, else the chunks nothing references.
    /// </summary>
    public IReadOnlyList<ContentHash>? DropVersion(string bucket, string key, string versionId)
    {
        using var tx = _db.BeginTransaction();
        var existing = TryGet(bucket, key, tx);
        if (existing?.VersionId != versionId)
        {
            tx.Rollback();
            return null;
        }
        DeleteKey(bucket, key, tx);
        var unreferenced = Unreferenced(existing.Chunks.Select(c => c.Id), tx);
        tx.Commit();
        return unreferenced;
    }

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
        using var cmd = Command("SELECT version_id, created_ms, writer FROM delete_markers WHERE bucket=$b AND key=$k", tx);
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
        using var cmd = Command("""
            SELECT key, version_id, created_ms, writer FROM delete_markers
            WHERE bucket=$b AND key >= $p AND substr(key, 1, length($p)) = $p AND ($a IS NULL OR key > $a) AND ($u IS NULL OR key <= $u)
            ORDER BY key
            """);
        cmd.Parameters.AddWithValue("$b", bucket);
        cmd.Parameters.AddWithValue("$p", prefix);
        cmd.Parameters.AddWithValue("$a", (object?)startAfter ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$u", (object?)upTo ?? DBNull.Value);
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
        using var cmd = Command("DELETE FROM delete_markers WHERE bucket=$b AND key=$k", tx);
        cmd.Parameters.AddWithValue("$b", bucket);
        cmd.Parameters.AddWithValue("$k", key);
        cmd.ExecuteNonQuery();
    }

    public ObjectManifest? TryGet(string bucket, string key) => TryGet(bucket, key, null);

    private ObjectManifest? TryGet(string bucket, string key, SqliteTransaction? tx)
    {
        using var cmd = Command("SELECT version_id, size, sha256, created_ms, writer FROM objects WHERE bucket=$b AND key=$k", tx);
        cmd.Parameters.AddWithValue("$b", bucket);
        cmd.Parameters.AddWithValue("$k", key);
        string versionId;
        long size;
        ContentHash sha;
        DateTimeOffset created;
        string writer;
        using (var reader = cmd.ExecuteReader())
        {
            if (!reader.Read()) return null;
            versionId = reader.GetString(0);
            size = reader.GetInt64(1);
            sha = ContentHash.FromBytes((byte[])reader[2]);
            created = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3));
            writer = reader.GetString(4);
        }
        using var chunks = Command("SELECT chunk, length FROM object_chunks WHERE version_id=$v ORDER BY seq", tx);
        chunks.Parameters.AddWithValue("$v", versionId);
        var list = new List<ChunkRef>();
        using (var reader = chunks.ExecuteReader())
            while (reader.Read())
                list.Add(new ChunkRef(ContentHash.FromBytes((byte[])reader[0]), reader.GetInt32(1)));
        return new ObjectManifest(bucket, key, versionId, size, sha, created, list, writer);
    }

    /// <summary>Objects of a bucket whose key starts with <paramref name="prefix"/>, in key order, after <paramref name="startAfter"/>.</summary>
    public IReadOnlyList<ObjectSummary> List(string bucket, string prefix, int limit, string? startAfter = null)
    {
        // The range test lets SQLite seek on the primary key; substr keeps the prefix test exact.
        using var cmd = Command("""
            SELECT key, version_id, size, sha256, created_ms, chunk_count, writer FROM objects
            WHERE bucket=$b AND key >= $p AND substr(key, 1, length($p)) = $p AND ($a IS NULL OR key > $a)
            ORDER BY key LIMIT $n
            """);
        cmd.Parameters.AddWithValue("$b", bucket);
        cmd.Parameters.AddWithValue("$p", prefix);
        cmd.Parameters.AddWithValue("$a", (object?)startAfter ?? DBNull.Value);
        cmd.Parameters.AddWithValue("$n", limit);
        var result = new List<ObjectSummary>();
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
            result.Add(new ObjectSummary(bucket, reader.GetString(0), reader.GetString(1), reader.GetInt64(2),
                ContentHash.FromBytes((byte[])reader[3]), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)), reader.GetInt32(5),
                reader.GetString(6)));
        return result;
    }

    public IReadOnlyList<BucketSummary> ListBuckets()
    {
        using var cmd = Command("SELECT bucket, count(*), sum(size) FROM objects GROUP BY bucket ORDER BY bucket");
        var result = new List<BucketSummary>();
        using var reader = cmd.ExecuteReader();
        while (reader.Read()) result.Add(new BucketSummary(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2)));
        return result;
    }

    public bool IsReferenced(ContentHash chunk)
    {
        using var cmd = Command("SELECT EXISTS(SELECT 1 FROM object_chunks WHERE chunk=$c)");
        cmd.Parameters.AddWithValue("$c", chunk.ToArray());
        return Convert.ToInt64(cmd.ExecuteScalar()) != 0;
    }

    public HashSet<ContentHash> ReferencedChunks()
    {
        using var cmd = Command("SELECT DISTINCT chunk FROM object_chunks");
        var result = new HashSet<ContentHash>();
        using var reader = cmd.ExecuteReader();
        while (reader.Read()) result.Add(ContentHash.FromBytes((byte[])reader[0]));
        return result;
    }

    public long ObjectCount()
    {
        using var cmd = Command("SELECT count(*) FROM objects");
        return Convert.ToInt64(cmd.ExecuteScalar());
    }

    public void Dispose() => _db.Dispose();

    private bool HasColumn(string table, string column)
    {
        using var cmd = Command($"SELECT EXISTS(SELECT 1 FROM pragma_table_info('{table}') WHERE name=$c)");
        cmd.Parameters.AddWithValue("$c", column);
        return Convert.ToInt64(cmd.ExecuteScalar()) != 0;
    }

    private int DeleteKey(string bucket, string key, SqliteTransaction tx)
    {
        using var cmd = Command("DELETE FROM objects WHERE bucket=$b AND key=$k", tx);
        cmd.Parameters.AddWithValue("$b", bucket);
        cmd.Parameters.AddWithValue("$k", key);
        return cmd.ExecuteNonQuery();
    }

    private List<ContentHash> Unreferenced(IEnumerable<ContentHash> candidates, SqliteTransaction tx)
    {
        using var cmd = Command("SELECT EXISTS(SELECT 1 FROM object_chunks WHERE chunk=$c)", tx);
        var p = cmd.Parameters.Add("$c", SqliteType.Blob);
        var result = new List<ContentHash>();
        foreach (var id in candidates.Distinct())
        {
            p.Value = id.ToArray();
            if (Convert.ToInt64(cmd.ExecuteScalar()) == 0) result.Add(id);
        }
        return result;
    }

    private SqliteCommand Command(string sql, SqliteTransaction? tx = null)
    {
        var cmd = _db.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        return cmd;
    }

    private void Execute(string sql)
    {
        using var cmd = Command(sql);
        cmd.ExecuteNonQuery();
    }
}
