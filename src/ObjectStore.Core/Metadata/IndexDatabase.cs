using Microsoft.Data.Sqlite;

namespace ObjectStore.Core.Metadata;

/// <summary>
/// The node's index.db: object versions with their chunk lists, delete markers (<see cref="ObjectIndex"/>)
/// the pins of puts in progress (<see cref="ChunkLedger"/>) and the copies still to make (<see cref="RepairQueue"/>), each through a connection of its own.
/// WAL mode lets the two write in turn and read while the other writes; the busy timeout makes one wait
/// for the other's short transaction instead of failing.
/// </summary>
internal static class IndexDatabase
{
    public static string PathIn(string dataDirectory) => Path.Combine(Path.GetFullPath(dataDirectory), "index.db");

    /// <param name="synchronousFull">fsync every commit (the object index); else the WAL is flushed with the file system.</param>
    public static SqliteConnection Open(string dataDirectory, bool synchronousFull)
    {
        Directory.CreateDirectory(dataDirectory);
        var db = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = PathIn(dataDirectory),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString());
        db.Open();
        try
        {
            Execute(db, "PRAGMA busy_timeout=30000;");
            Execute(db, "PRAGMA journal_mode=WAL;");
            Execute(db, synchronousFull ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;");
            Execute(db, "PRAGMA foreign_keys=ON;");
            // Both connections may open a new database at the same moment: the schema is made in one
            // write transaction, so the second waits and then finds it complete.
            using var tx = db.BeginTransaction(deferred: false);
            CreateTables(db, tx);
            tx.Commit();
        }
        catch
        {
            db.Dispose();
            throw;
        }
        return db;
    }

    private static void CreateTables(SqliteConnection db, SqliteTransaction tx)
    {
        Execute(db, tx, """
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
        Execute(db, tx, """
            CREATE TABLE IF NOT EXISTS delete_markers(
                bucket TEXT NOT NULL,
                key TEXT NOT NULL,
                version_id TEXT NOT NULL,
                created_ms INTEGER NOT NULL,
                writer TEXT NOT NULL,
                PRIMARY KEY(bucket, key)) WITHOUT ROWID;
            """);
        // Indexes created before replication lack the writer column (the node that took the put).
        if (!HasColumn(db, tx, "objects", "writer")) Execute(db, tx, "ALTER TABLE objects ADD COLUMN writer TEXT NOT NULL DEFAULT ''");
        // The stored file's mode and modification time (NULL: the put did not give them, or came before them).
        if (!HasColumn(db, tx, "objects", "file_mode"))
            Execute(db, tx, "ALTER TABLE objects ADD COLUMN file_mode INTEGER; ALTER TABLE objects ADD COLUMN file_mtime_ns INTEGER");
        // Objects and bytes per bucket, kept by triggers in the transaction that changes `objects` (every
        // change is a DELETE or an INSERT; nothing UPDATEs a row), so that listing the buckets reads one row
        // per bucket instead of every object (the scan took 18 ms at 100,000 objects and 170 ms at a million, warm).
        // An index from before the table gets it filled from `objects` once, here.
        var totalsExisted = TableExists(db, tx, "bucket_totals");
        Execute(db, tx, """
            CREATE TABLE IF NOT EXISTS bucket_totals(
                bucket TEXT NOT NULL PRIMARY KEY,
                objects INTEGER NOT NULL,
                bytes INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TRIGGER IF NOT EXISTS bucket_totals_in AFTER INSERT ON objects BEGIN
                INSERT INTO bucket_totals(bucket, objects, bytes) VALUES (NEW.bucket, 1, NEW.size)
                    ON CONFLICT(bucket) DO UPDATE SET objects = objects + 1, bytes = bytes + excluded.bytes;
            END;
            CREATE TRIGGER IF NOT EXISTS bucket_totals_out AFTER DELETE ON objects BEGIN
                UPDATE bucket_totals SET objects = objects - 1, bytes = bytes - OLD.size WHERE bucket = OLD.bucket;
                DELETE FROM bucket_totals WHERE bucket = OLD.bucket AND objects <= 0;
            END;
            """);
        if (!totalsExisted)
            Execute(db, tx, "INSERT INTO bucket_totals(bucket, objects, bytes) SELECT bucket, count(*), sum(size) FROM objects GROUP BY bucket");
        // Chunks a put in progress has stored or claimed here, kept from garbage collection until the put
        // commits, fails, or goes silent for its lease; persisted, so a restart knows them too.
        Execute(db, tx, """
            CREATE TABLE IF NOT EXISTS uploads(
                upload_id TEXT NOT NULL PRIMARY KEY,
                expires_ms INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS pins(
                upload_id TEXT NOT NULL,
                chunk BLOB NOT NULL,
                PRIMARY KEY(upload_id, chunk)) WITHOUT ROWID;
            """);
        // Copies this node should see made: "object version V (its metadata, and the chunks of it that
        // the node owns) should be on node N" (RepairQueue). Empty target: no node exists for the copy
        // yet (fewer storage nodes than the factor); it waits for a membership change.
        Execute(db, tx, """
            CREATE TABLE IF NOT EXISTS repair_queue(
                version_id TEXT NOT NULL,
                target TEXT NOT NULL,
                bucket TEXT NOT NULL,
                key TEXT NOT NULL,
                bytes INTEGER NOT NULL,
                reason TEXT NOT NULL,
                attempts INTEGER NOT NULL,
                next_ms INTEGER NOT NULL,
                added_ms INTEGER NOT NULL,
                last_error TEXT NOT NULL DEFAULT '',
                PRIMARY KEY(version_id, target)) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS repair_queue_by_next ON repair_queue(next_ms);
            """);
    }

    public static SqliteCommand Command(SqliteConnection db, string sql, SqliteTransaction? tx = null)
    {
        var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        return cmd;
    }

    public static void Execute(SqliteConnection db, string sql) => Execute(db, null, sql);

    private static void Execute(SqliteConnection db, SqliteTransaction? tx, string sql)
    {
        using var cmd = Command(db, sql, tx);
        cmd.ExecuteNonQuery();
    }

    private static bool TableExists(SqliteConnection db, SqliteTransaction tx, string table)
    {
        using var cmd = Command(db, "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type='table' AND name=$t)", tx);
        cmd.Parameters.AddWithValue("$t", table);
        return Convert.ToInt64(cmd.ExecuteScalar()) == 1;
    }

    private static bool HasColumn(SqliteConnection db, SqliteTransaction tx, string table, string column)
    {
        using var cmd = Command(db, $"SELECT EXISTS(SELECT 1 FROM pragma_table_info('{table}') WHERE name=$c)", tx);
        cmd.Parameters.AddWithValue("$c", column);
        return Convert.ToInt64(cmd.ExecuteScalar()) != 0;
    }
}
