using Microsoft.Data.Sqlite;
using ObjectStore.Core.Hashing;

namespace ObjectStore.Core.Metadata;

/// <summary>
/// Which chunk files a node must keep: those an object version references, and those a put in progress
/// has stored or claimed here (pinned for that put). Pins live in memory for the checks and in index.db,
/// so that a node restarted after a crash still keeps what a put elsewhere is about to commit. Each put
/// has a lease: a put that goes silent (its node died) lets go of its chunks when the lease ends.
/// </summary>
/// <remarks>
/// Changes are queued and written by <see cref="Flush"/> in one transaction, so a burst of chunks costs
/// one write. The connection commits without fsync: a process crash never loses a committed pin, and the
/// group commit that makes the pinned chunk durable flushes the same file system. Not thread-safe.
/// </remarks>
public sealed class ChunkLedger : IDisposable
{
    private sealed class Upload(DateTimeOffset expires)
    {
        public HashSet<ContentHash> Chunks { get; } = [];
        public List<ContentHash> Unsaved { get; } = [];
        public DateTimeOffset Expires { get; set; } = expires;
        /// <summary>The lease as index.db has it; rewritten only when the lease in memory has moved well past it.</summary>
        public DateTimeOffset? SavedExpires { get; set; }
        public bool Dirty => Unsaved.Count > 0 || SavedExpires is null;
    }

    private readonly SqliteConnection _db;
    private readonly PreparedStatements _statements;
    private readonly Dictionary<string, Upload> _uploads = new(StringComparer.Ordinal);
    private readonly Dictionary<ContentHash, int> _pins = new();
    private readonly HashSet<string> _released = new(StringComparer.Ordinal);

    public ChunkLedger(string dataDirectory)
    {
        _db = IndexDatabase.Open(dataDirectory, synchronousFull: false);
        _statements = new PreparedStatements(_db);
        // This connection commits once per burst of chunks; a checkpoint from here (which syncs index.db)
        // would stall the keeper, and with it every chunk write and claim, behind a disk busy with chunk
        // data. The object index's connection, which commits once per put, checkpoints the shared log.
        IndexDatabase.Execute(_db, "PRAGMA wal_autocheckpoint=0;");
        Load();
    }

    public int UploadCount => _uploads.Count;

    public bool HasUnsavedChanges => _released.Count > 0 || _uploads.Values.Any(u => u.Dirty || LeaseStale(u));

    /// <summary>
    /// A lease in index.db is rewritten only when the one in memory runs a quarter of a lease or more past
    /// it: a put that keeps sending extends its lease with every chunk, and a write per chunk for that
    /// would cost more than the put. After a restart a put's lease can so end up to that much early.
    /// </summary>
    private bool LeaseStale(Upload u) => u.SavedExpires is { } saved && u.Expires - saved > _leaseSlack;

    private TimeSpan _leaseSlack = TimeSpan.Zero;

    public bool IsPinned(ContentHash id) => _pins.ContainsKey(id);

    public IReadOnlyCollection<ContentHash> PinsOf(string upload) => _uploads.TryGetValue(upload, out var u) ? u.Chunks : [];

    /// <summary>
    /// Whether a put's pins should be written before its commit: it has pins not yet in index.db, and it
    /// pinned more than one chunk. A put of a single chunk (most small files) is left to the next batched
    /// write, and one that ends before it costs no write at all.
    /// </summary>
    public bool ShouldSaveBeforeCommit(string upload) => _uploads.TryGetValue(upload, out var u) && u.Dirty && u.Chunks.Count > 1;

    /// <summary>Keeps <paramref name="id"/> for <paramref name="upload"/> and extends the put's lease.</summary>
    public void Pin(string upload, ContentHash id, DateTimeOffset expires)
    {
        var u = Touch(upload, expires);
        if (!u.Chunks.Add(id)) return;
        u.Unsaved.Add(id);
        _pins[id] = _pins.GetValueOrDefault(id) + 1;
    }

    /// <summary>Extends a put's lease (it is still sending); starts one for a put not seen before.</summary>
    public void Extend(string upload, DateTimeOffset expires) => Touch(upload, expires);

    private Upload Touch(string upload, DateTimeOffset expires)
    {
        if (!_uploads.TryGetValue(upload, out var u))
        {
            _uploads[upload] = u = new Upload(expires);
            return u;
        }
        if (expires > u.Expires) u.Expires = expires;
        return u;
    }

    /// <summary>How far a lease in memory may run ahead of the saved one before it is written again (a quarter of the lease).</summary>
    public TimeSpan LeaseSlack
    {
        get => _leaseSlack;
        set => _leaseSlack = value < TimeSpan.Zero ? TimeSpan.Zero : value;
    }

    /// <summary>The put ended: its pins go. Returns the chunks it had pinned.</summary>
    public IReadOnlyCollection<ContentHash> Release(string upload)
    {
        if (!_uploads.Remove(upload, out var u)) return [];
        // A put that began and ended between two flushes left nothing in index.db to delete.
        if (u.SavedExpires is not null) _released.Add(upload);
        foreach (var id in u.Chunks)
            if (--_pins[id] == 0) _pins.Remove(id);
        return u.Chunks;
    }

    /// <summary>Puts whose lease ended before <paramref name="now"/>.</summary>
    public IReadOnlyList<string> Expired(DateTimeOffset now) => _uploads.Where(u => u.Value.Expires < now).Select(u => u.Key).ToList();

    /// <summary>Whether an object version on this node lists the chunk (committed by the object index).</summary>
    public bool IsReferenced(ContentHash id)
    {
        var cmd = _statements.For("SELECT EXISTS(SELECT 1 FROM object_chunks WHERE chunk=$c)");
        cmd.Parameters.AddWithValue("$c", id.ToArray());
        return Convert.ToInt64(cmd.ExecuteScalar()) != 0;
    }

    public HashSet<ContentHash> ReferencedChunks()
    {
        using var cmd = IndexDatabase.Command(_db, "SELECT DISTINCT chunk FROM object_chunks");
        var result = new HashSet<ContentHash>();
        using var reader = cmd.ExecuteReader();
        while (reader.Read()) result.Add(ContentHash.FromBytes((byte[])reader[0]));
        return result;
    }

    /// <summary>Writes every change since the last flush in one transaction.</summary>
    public void Flush()
    {
        if (!HasUnsavedChanges) return;
        using var tx = _db.BeginTransaction();
        foreach (var upload in _released)
        {
            var pins = _statements.For("DELETE FROM pins WHERE upload_id=$u", tx);
            pins.Parameters.AddWithValue("$u", upload);
            pins.ExecuteNonQuery();
            var row = _statements.For("DELETE FROM uploads WHERE upload_id=$u", tx);
            row.Parameters.AddWithValue("$u", upload);
            row.ExecuteNonQuery();
        }
        var lease = _statements.For("INSERT OR REPLACE INTO uploads(upload_id, expires_ms) VALUES ($u, $e)", tx);
        var leaseUpload = lease.Parameters.Add("$u", SqliteType.Text);
        var leaseExpires = lease.Parameters.Add("$e", SqliteType.Integer);
        var pin = _statements.For("INSERT OR IGNORE INTO pins(upload_id, chunk) VALUES ($u, $c)", tx);
        var pinUpload = pin.Parameters.Add("$u", SqliteType.Text);
        var pinChunk = pin.Parameters.Add("$c", SqliteType.Blob);
        foreach (var (id, u) in _uploads.Where(u => u.Value.Dirty || LeaseStale(u.Value)))
        {
            if (u.SavedExpires != u.Expires)
            {
                leaseUpload.Value = id;
                leaseExpires.Value = u.Expires.ToUnixTimeMilliseconds();
                lease.ExecuteNonQuery();
            }
            pinUpload.Value = id;
            foreach (var chunk in u.Unsaved)
            {
                pinChunk.Value = chunk.ToArray();
                pin.ExecuteNonQuery();
            }
        }
        tx.Commit();
        _released.Clear();
        foreach (var u in _uploads.Values)
        {
            u.SavedExpires = u.Expires;
            u.Unsaved.Clear();
        }
    }

    private void Load()
    {
        using (var uploads = IndexDatabase.Command(_db, "SELECT upload_id, expires_ms FROM uploads"))
        using (var reader = uploads.ExecuteReader())
            while (reader.Read())
            {
                var expires = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1));
                _uploads[reader.GetString(0)] = new Upload(expires) { SavedExpires = expires };
            }
        using var pins = IndexDatabase.Command(_db, "SELECT upload_id, chunk FROM pins");
        using var rows = pins.ExecuteReader();
        while (rows.Read())
        {
            if (!_uploads.TryGetValue(rows.GetString(0), out var u)) continue;
            var id = ContentHash.FromBytes((byte[])rows[1]);
            if (u.Chunks.Add(id)) _pins[id] = _pins.GetValueOrDefault(id) + 1;
        }
    }

    public void Dispose()
    {
        _statements.Dispose();
        _db.Dispose();
    }
}
