using Microsoft.Data.Sqlite;

namespace ObjectStore.Core.Metadata;

/// <summary>
/// Commands made once per connection and reused, their parameters cleared on each use: for the statements every
/// commit, pin flush and collection runs. A new <see cref="SqliteCommand"/> is compiled again by SQLite on each
/// use — in a put -r of small files on three nodes the parser and planner were 3-4 % of a node's CPU, and an
/// index commit of 64 small manifests took 5.5 ms instead of 2.0 ms (docs/BENCHMARKS.md, IndexCommitBenchmarks).
/// Callers never dispose what they get; one use at a time (the owners are single-threaded).
/// </summary>
internal sealed class PreparedStatements(SqliteConnection db) : IDisposable
{
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

    public SqliteCommand For(string sql, SqliteTransaction? tx = null)
    {
        if (!_commands.TryGetValue(sql, out var cmd)) _commands[sql] = cmd = IndexDatabase.Command(db, sql);
        cmd.Transaction = tx;
        cmd.Parameters.Clear();
        return cmd;
    }

    public void Dispose()
    {
        foreach (var cmd in _commands.Values) cmd.Dispose();
        _commands.Clear();
    }
}
