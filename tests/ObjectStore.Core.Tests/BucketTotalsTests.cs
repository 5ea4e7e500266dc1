using Microsoft.Data.Sqlite;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;

namespace ObjectStore.Core.Tests;

/// <summary>
/// Listing the buckets reads totals the index keeps per bucket as objects come and go (not a scan of every
/// object): they must always be what counting the objects would give, also in an index from before them.
/// </summary>
public class BucketTotalsTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private long _clock = 1_700_000_000_000;

    public void Dispose() => _dir.Dispose();

    /// <summary>A version of <paramref name="bucket"/>/<paramref name="key"/> of <paramref name="size"/> bytes, each later than the last.</summary>
    private ObjectManifest Version(string bucket, string key, int size) =>
        new(bucket, key, ObjectManifest.NewVersionId(), size, ContentHash.Compute(BitConverter.GetBytes(size)),
            DateTimeOffset.FromUnixTimeMilliseconds(++_clock), size == 0 ? [] : [new ChunkRef(ContentHash.Compute(BitConverter.GetBytes(size)), size)], "node-a");

    [Fact]
    public void Totals_follow_puts_replacements_and_deletes_and_an_emptied_bucket_is_gone()
    {
        using var index = new ObjectIndex(_dir.Path);
        index.CommitMany([Version("photos", "a", 100), Version("photos", "b", 20), Version("videos", "x", 5000)]);
        Assert.Equal([new BucketSummary("photos", 2, 120), new BucketSummary("videos", 1, 5000)], index.ListBuckets());

        index.Commit(Version("photos", "a", 7));      // a new version replaces the old one
        index.Commit(Version("photos", "c", 0));      // an empty object counts, with no bytes
        Assert.NotNull(index.Delete("videos", "x"));  // the bucket's last object
        Assert.Null(index.Delete("videos", "x"));     // already gone: nothing changes

        Assert.Equal([new BucketSummary("photos", 3, 27)], index.ListBuckets());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void After_any_mix_of_puts_and_deletes_the_totals_are_what_counting_the_objects_gives(int seed)
    {
        var random = new Random(seed);
        var model = new Dictionary<(string Bucket, string Key), int>();
        using var index = new ObjectIndex(_dir.Path);
        for (var step = 0; step < 400; step++)
        {
            var at = ($"b{random.Next(4)}", $"k{random.Next(12)}");
            if (random.Next(3) == 0)
            {
                var marker = new DeleteMarker(at.Item1, at.Item2, ObjectManifest.NewVersionId(), DateTimeOffset.FromUnixTimeMilliseconds(++_clock), "node-a");
                var deleted = index.Delete(marker) is not null;
                Assert.Equal(model.Remove(at), deleted);
            }
            else
            {
                var size = random.Next(0, 1000);
                Assert.True(index.Commit(Version(at.Item1, at.Item2, size)).Current);
                model[at] = size;
            }
        }

        var expected = model.GroupBy(o => o.Key.Bucket).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new BucketSummary(g.Key, g.Count(), g.Sum(o => (long)o.Value))).ToList();
        Assert.Equal(expected, index.ListBuckets());
    }

    [Fact]
    public void An_index_from_before_the_totals_gets_them_counted_when_opened()
    {
        using (var index = new ObjectIndex(_dir.Path))
            index.CommitMany([Version("photos", "a", 100), Version("photos", "b", 20), Version("videos", "x", 5000)]);
        // What an index written by an earlier version looks like: no totals, no triggers.
        using (var db = new SqliteConnection($"Data Source={IndexDatabase.PathIn(_dir.Path)};Pooling=False"))
        {
            db.Open();
            IndexDatabase.Execute(db, "DROP TRIGGER bucket_totals_in; DROP TRIGGER bucket_totals_out; DROP TABLE bucket_totals;");
        }

        using var reopened = new ObjectIndex(_dir.Path);
        Assert.Equal([new BucketSummary("photos", 2, 120), new BucketSummary("videos", 1, 5000)], reopened.ListBuckets());
        reopened.Commit(Version("videos", "y", 1));
        Assert.Equal(new BucketSummary("videos", 2, 5001), reopened.ListBuckets()[1]);
    }
}
