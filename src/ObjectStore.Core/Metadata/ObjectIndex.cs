using Microsoft.Data.Sqlite;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Storage;

namespace ObjectStore.Core.Metadata;

/// <summary>
/// The node's object metadata in SQLite (WAL mode, synchronous=FULL: a committed put survives a
/// crash or power loss, and readers never see half a put). One object's row and its chunk list are
/// written in one transaction. Keys live only in the database, never in a file path.
/// </summary>
/// <remarks>Not thread-safe: one owner (the object index actor) uses it.</remarks>
public sealed partial class ObjectIndex : IDisposable
{
    private readonly SqliteConnection _db;
    private readonly PreparedStatements _statements;

    public ObjectIndex(string dataDirectory)
    {
        FilePath = IndexDatabase.PathIn(dataDirectory);
        _db = IndexDatabase.Open(dataDirectory, synchronousFull: true);
        _statements = new PreparedStatements(_db);
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

        var insert = Statement("""
            INSERT INTO objects(bucket, key, version_id, size, sha256, created_ms, chunk_count, writer, file_mode, file_mtime_ns)
            VALUES ($b, $k, $v, $s, $h, $c, $n, $w, $fm, $ft)
            """, tx);
        insert.Parameters.AddWithValue("$fm", (object?)manifest.File?.Mode ?? DBNull.Value);
        insert.Parameters.AddWithValue("$ft", (object?)manifest.File?.ModifiedUnixNs ?? DBNull.Value);
        insert.Parameters.AddWithValue("$w", manifest.Writer);
        insert.Parameters.AddWithValue("$b", manifest.Bucket);
        insert.Parameters.AddWithValue("$k", manifest.Key);
        insert.Parameters.AddWithValue("$v", manifest.VersionId);
        insert.Parameters.AddWithValue("$s", manifest.Size);
        insert.Parameters.AddWithValue("$h", manifest.Sha256.ToArray());
        insert.Parameters.AddWithValue("$c", manifest.Created.ToUnixTimeMilliseconds());
        insert.Parameters.AddWithValue("$n", manifest.Chunks.Count);
        insert.ExecuteNonQuery();

        var chunk = Statement("INSERT INTO object_chunks(version_id, seq, chunk, length) VALUES ($v, $i, $c, $l)", tx);
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

    public ObjectManifest? TryGet(string bucket, string key) => TryGet(bucket, key, null);

    /// <summary>
    /// Up to <paramref name="count"/> chunks of the key's version <paramref name="versionId"/> from the
    /// <paramref name="start"/>th on, read by seeking to them (a large manifest goes out in pages, and
    /// reading the whole manifest for each page made fetching it quadratic in its chunks); null when that
    /// version is not the key's current one.
    /// </summary>
    public IReadOnlyList<ChunkRef>? ChunkPage(string bucket, string key, string versionId, int start, int count)
    {
        using var cmd = Command("""
            SELECT c.chunk, c.length FROM objects o JOIN object_chunks c ON c.version_id = o.version_id
            WHERE o.bucket=$b AND o.key=$k AND o.version_id=$v AND c.seq >= $s ORDER BY c.seq LIMIT $n
            """);
        cmd.Parameters.AddWithValue("$b", bucket);
        cmd.Parameters.AddWithValue("$k", key);
        cmd.Parameters.AddWithValue("$v", versionId);
        cmd.Parameters.AddWithValue("$s", Math.Max(0, start));
        cmd.Parameters.AddWithValue("$n", Math.Max(0, count));
        var page = new List<ChunkRef>();
        using (var reader = cmd.ExecuteReader())
            while (reader.Read())
                page.Add(new ChunkRef(ContentHash.FromBytes((byte[])reader[0]), reader.GetInt32(1)));
        if (page.Count > 0) return page;
        // No chunks there: past the end of the current version (an empty page), or not the current version.
        using var current = Command("SELECT 1 FROM objects WHERE bucket=$b AND key=$k AND version_id=$v");
        current.Parameters.AddWithValue("$b", bucket);
        current.Parameters.AddWithValue("$k", key);
        current.Parameters.AddWithValue("$v", versionId);
        return current.ExecuteScalar() is null ? null : page;
    }

    private ObjectManifest? TryGet(string bucket, string key, SqliteTransaction? tx)
    {
        var cmd = Statement("SELECT version_id, size, sha256, created_ms, writer, file_mode, file_mtime_ns FROM objects WHERE bucket=$b AND key=$k", tx);
        cmd.Parameters.AddWithValue("$b", bucket);
        cmd.Parameters.AddWithValue("$k", key);
        string versionId;
        long size;
        ContentHash sha;
        DateTimeOffset created;
        string writer;
        FileMetadata? file;
        using (var reader = cmd.ExecuteReader())
        {
            if (!reader.Read()) return null;
            versionId = reader.GetString(0);
            size = reader.GetInt64(1);
            sha = ContentHash.FromBytes((byte[])reader[2]);
            created = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3));
            writer = reader.GetString(4);
            file = FileOf(reader, 5);
        }
        var chunks = Statement("SELECT chunk, length FROM object_chunks WHERE version_id=$v ORDER BY seq", tx);
        chunks.Parameters.AddWithValue("$v", versionId);
        var list = new List<ChunkRef>();
        using (var reader = chunks.ExecuteReader())
            while (reader.Read())
                list.Add(new ChunkRef(ContentHash.FromBytes((byte[])reader[0]), reader.GetInt32(1)));
        return new ObjectManifest(bucket, key, versionId, size, sha, created, list, writer, file);
    }

    /// <summary>The file metadata in columns <paramref name="at"/> (mode) and the next (modification time), if stored.</summary>
    private static FileMetadata? FileOf(SqliteDataReader reader, int at) =>
        reader.IsDBNull(at) ? null : new FileMetadata(reader.GetInt32(at), reader.GetInt64(at + 1));

    public void Dispose()
    {
        _statements.Dispose();
        _db.Dispose();
    }

    private int DeleteKey(string bucket, string key, SqliteTransaction tx)
    {
        var cmd = Statement("DELETE FROM objects WHERE bucket=$b AND key=$k", tx);
        cmd.Parameters.AddWithValue("$b", bucket);
        cmd.Parameters.AddWithValue("$k", key);
        return cmd.ExecuteNonQuery();
    }

    private List<ContentHash> Unreferenced(IEnumerable<ContentHash> candidates, SqliteTransaction tx)
    {
        var cmd = Statement("SELECT EXISTS(SELECT 1 FROM object_chunks WHERE chunk=$c)", tx);
        var p = cmd.Parameters.Add("$c", SqliteType.Blob);
        var result = new List<ContentHash>();
        foreach (var id in candidates.Distinct())
        {
            p.Value = id.ToArray();
            if (Convert.ToInt64(cmd.ExecuteScalar()) == 0) result.Add(id);
        }
        return result;
    }

    private SqliteCommand Command(string sql, SqliteTransaction? tx = null) => IndexDatabase.Command(_db, sql, tx);

    /// <summary>A reused command (<see cref="PreparedStatements"/>), for the statements every commit runs; not to be disposed.</summary>
    private SqliteCommand Statement(string sql, SqliteTransaction? tx) => _statements.For(sql, tx);
}
