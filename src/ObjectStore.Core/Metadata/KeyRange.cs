using Microsoft.Data.Sqlite;

namespace ObjectStore.Core.Metadata;

/// <summary>
/// The keys of a listing — those starting with a prefix, after one key and up to another — as one lower
/// and one upper bound on <c>key</c>, so that SQLite seeks to the page on the primary key and stops at its
/// end. (A condition such as <c>($a IS NULL OR key &gt; $a)</c> is not used for the seek: every page then
/// scanned the bucket from the prefix on, and listing 100,000 keys a page at a time read 5 million rows.)
/// </summary>
internal sealed class KeyRange
{
    private readonly string _lower, _lowerOp;
    private readonly string? _upper, _upperOp, _prefix;

    public KeyRange(string prefix, string? startAfter, string? upTo = null)
    {
        (_lower, _lowerOp) = startAfter is not null && KeyOrder.Instance.Compare(startAfter, prefix) >= 0 ? (startAfter, ">") : (prefix, ">=");
        var end = KeyOrder.EndOfPrefix(prefix);
        if (upTo is not null && (end is null || KeyOrder.Instance.Compare(upTo, end) < 0)) (_upper, _upperOp) = (upTo, "<=");
        else if (end is not null) (_upper, _upperOp) = (end, "<");
        // Between a prefix and its end lie exactly the keys that start with it; without an end, test it.
        if (end is null && prefix.Length > 0) _prefix = prefix;
    }

    /// <summary>The conditions on <c>key</c>, with parameters $lo, $hi and $p.</summary>
    public string Sql =>
        $"key {_lowerOp} $lo" + (_upper is null ? "" : $" AND key {_upperOp} $hi") + (_prefix is null ? "" : " AND substr(key, 1, length($p)) = $p");

    public void Bind(SqliteCommand cmd)
    {
        cmd.Parameters.AddWithValue("$lo", _lower);
        if (_upper is not null) cmd.Parameters.AddWithValue("$hi", _upper);
        if (_prefix is not null) cmd.Parameters.AddWithValue("$p", _prefix);
    }
}
