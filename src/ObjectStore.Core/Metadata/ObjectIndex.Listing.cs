using Microsoft.Data.Sqlite;
using ObjectStore.Core.Hashing;

namespace ObjectStore.Core.Metadata;

/// <summary>Listings: a bucket's objects by key prefix, buckets with their counts.</summary>
public sealed partial class ObjectIndex
{
    /// <summary>Objects of a bucket whose key starts with <paramref name="prefix"/>, in key order, after <paramref name="startAfter"/>.</summary>
    public IReadOnlyList<ObjectSummary> List(string bucket, string prefix, int limit, string? startAfter = null)
    {
        var range = new KeyRange(prefix, startAfter);
        using var cmd = Command($"""
            SELECT key, version_id, size, sha256, created_ms, chunk_count, writer, file_mode, file_mtime_ns FROM objects
            WHERE bucket=$b AND {range.Sql} ORDER BY key LIMIT $n
            """);
        cmd.Parameters.AddWithValue("$b", bucket);
        range.Bind(cmd);
        cmd.Parameters.AddWithValue("$n", limit);
        var result = new List<ObjectSummary>();
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
            result.Add(new ObjectSummary(bucket, reader.GetString(0), reader.GetString(1), reader.GetInt64(2),
                ContentHash.FromBytes((byte[])reader[3]), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)), reader.GetInt32(5),
                reader.GetString(6), FileOf(reader, 7)));
        return result;
    }

    public IReadOnlyList<BucketSummary> ListBuckets()
    {
        using var cmd = Command("SELECT bucket, objects, bytes FROM bucket_totals ORDER BY bucket");
        var result = new List<BucketSummary>();
        using var reader = cmd.ExecuteReader();
        while (reader.Read()) result.Add(new BucketSummary(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2)));
        return result;
    }

    public long ObjectCount()
    {
        using var cmd = Command("SELECT count(*) FROM objects");
        return Convert.ToInt64(cmd.ExecuteScalar());
    }
}
