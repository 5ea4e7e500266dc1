using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;

namespace ObjectStore.Core.Tests;

public class ObjectIndexTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static ContentHash H(int i) => ContentHash.Compute(BitConverter.GetBytes(i));

    private long _clock = 1_700_000_000_000;

    /// <summary>Each manifest one millisecond later than the last, so commit order is version order.</summary>
    private ObjectManifest Manifest(string key, params int[] chunks) =>
        new("photos", key, ObjectManifest.NewVersionId(), chunks.Length * 10, H(-1), DateTimeOffset.FromUnixTimeMilliseconds(++_clock),
            chunks.Select(c => new ChunkRef(H(c), 10)).ToList(), "node-a");

    [Fact]
    public void Committed_object_survives_reopening_with_its_chunk_list_in_order()
    {
        var manifest = Manifest("a/b.jpg", 3, 1, 2, 1);
        using (var index = new ObjectIndex(_dir.Path)) index.Commit(manifest);

        using var reopened = new ObjectIndex(_dir.Path);
        var read = reopened.TryGet("photos", "a/b.jpg");
        Assert.NotNull(read);
        Assert.Equal(manifest.Chunks, read.Chunks);
        Assert.Equal(manifest.VersionId, read.VersionId);
    }

    [Fact]
    public async Task The_index_and_the_ledger_opening_a_new_index_db_at_the_same_moment_both_succeed()
    {
        // A node's object index and chunk ledger open index.db at once on a new data directory: each makes
        // the file WAL and the schema, and neither may fail for the other.
        for (var round = 0; round < 40; round++)
        {
            var directory = System.IO.Path.Combine(_dir.Path, $"race-{round}");
            using var start = new Barrier(2);
            var index = Task.Run(() => { start.SignalAndWait(); return new ObjectIndex(directory); });
            var ledger = Task.Run(() => { start.SignalAndWait(); return new ChunkLedger(directory); });
            (await index.WaitAsync(TimeSpan.FromSeconds(30))).Dispose();
            (await ledger.WaitAsync(TimeSpan.FromSeconds(30))).Dispose();
        }
    }

    [Fact]
    public void A_files_mode_and_modification_time_survive_reopening_and_show_in_listings()
    {
        var metadata = new Storage.FileMetadata(0b111_101_000, 1_557_126_489_123_456_789);
        using (var index = new ObjectIndex(_dir.Path))
        {
            index.Commit(Manifest("with", 1) with { File = metadata });
            index.Commit(Manifest("without", 2));
        }

        using var reopened = new ObjectIndex(_dir.Path);
        Assert.Equal(metadata, reopened.TryGet("photos", "with")!.File);
        Assert.Null(reopened.TryGet("photos", "without")!.File);
        Assert.Equal([metadata, null], reopened.List("photos", "", 10).Select(o => o.File));
    }

    [Fact]
    public void Replacing_or_deleting_reports_only_chunks_nothing_else_references()
    {
        using var index = new ObjectIndex(_dir.Path);
        index.Commit(Manifest("one", 1, 2));
        index.Commit(Manifest("two", 2, 3));

        Assert.Equal([H(1)], index.Commit(Manifest("one", 4)).Unreferenced);
        Assert.Equal([H(4)], index.Delete("photos", "one"));
        Assert.Null(index.Delete("photos", "one"));
        using var ledger = new ChunkLedger(_dir.Path);
        Assert.True(ledger.IsReferenced(H(2)));
        Assert.False(ledger.IsReferenced(H(1)));
    }

    [Fact]
    public void Replicas_arriving_out_of_order_or_twice_leave_the_last_writer_current()
    {
        using var index = new ObjectIndex(_dir.Path);
        var older = Manifest("k", 1);
        var newer = Manifest("k", 2);
        var sameMillisecondOtherNode = newer with { VersionId = ObjectManifest.NewVersionId(), Writer = "node-b", Chunks = [new ChunkRef(H(3), 10)] };

        Assert.True(index.Commit(newer).Current);
        var refused = index.Commit(older);
        Assert.False(refused.Current);
        Assert.Equal([H(1)], refused.Unreferenced);
        Assert.True(index.Commit(newer).Current); // the same replica again changes nothing
        Assert.Equal(newer.VersionId, index.TryGet("photos", "k")!.VersionId);

        // Same millisecond: the higher node id wins, on every node alike.
        Assert.True(index.Commit(sameMillisecondOtherNode).Current);
        Assert.Equal("node-b", index.TryGet("photos", "k")!.Writer);
        Assert.False(index.Commit(newer).Current);
    }

    [Fact]
    public void Dropping_a_version_removes_it_only_while_it_is_current()
    {
        using var index = new ObjectIndex(_dir.Path);
        var first = Manifest("k", 1);
        index.Commit(first);
        var second = Manifest("k", 2);
        index.Commit(second);

        Assert.Null(index.DropVersion("photos", "k", first.VersionId));
        Assert.Equal(second.VersionId, index.TryGet("photos", "k")!.VersionId);
        Assert.Equal([H(2)], index.DropVersion("photos", "k", second.VersionId));
        Assert.Null(index.TryGet("photos", "k"));
    }

    [Fact]
    public void A_batch_of_commits_is_applied_whole_or_not_at_all()
    {
        using var index = new ObjectIndex(_dir.Path);
        var batch = new[] { Manifest("a", 1), Manifest("b", 2), Manifest("a", 3) };
        Assert.Throws<IOException>(() => index.CommitMany(batch, m =>
        {
            if (m.Key == "b") throw new IOException("simulated");
        }));
        Assert.Equal(0, index.ObjectCount());

        var results = index.CommitMany(batch);
        Assert.All(results, r => Assert.True(r.Current));
        Assert.Equal([H(1)], results[2].Unreferenced); // the batch's own earlier version of "a"
        Assert.Equal(batch[2].VersionId, index.TryGet("photos", "a")!.VersionId);
        Assert.Equal(2, index.ObjectCount());
    }

    [Fact]
    public void A_delete_marker_refuses_older_versions_arriving_late_and_yields_to_newer_ones()
    {
        using var index = new ObjectIndex(_dir.Path);
        var old = Manifest("k", 1);
        index.Commit(old);
        var marker = new DeleteMarker("photos", "k", ObjectManifest.NewVersionId(), DateTimeOffset.FromUnixTimeMilliseconds(++_clock), "node-a");

        Assert.Equal([H(1)], index.Delete(marker));
        Assert.Null(index.TryGet("photos", "k"));
        // The same put's replica arriving after the delete (from a node that was down) is refused.
        var late = index.Commit(old);
        Assert.False(late.Current);
        Assert.Null(index.TryGet("photos", "k"));
        Assert.Equal(marker, index.TryGetDeleteMarker("photos", "k"));
        Assert.Equal([marker], index.ListDeleteMarkers("photos", "", null, null));

        // A put newer than the delete brings the key back and clears the marker.
        var newer = Manifest("k", 2);
        Assert.True(index.Commit(newer).Current);
        Assert.Null(index.TryGetDeleteMarker("photos", "k"));
        // An older delete does not remove a newer version.
        Assert.Null(index.Delete(marker));
        Assert.Equal(newer.VersionId, index.TryGet("photos", "k")!.VersionId);
    }

    [Fact]
    public void Expired_delete_markers_are_dropped_and_recent_ones_kept()
    {
        using var index = new ObjectIndex(_dir.Path);
        var now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()); // the index keeps ms
        var old = new DeleteMarker("photos", "old", ObjectManifest.NewVersionId(), now.AddDays(-40), "node-a");
        var recent = new DeleteMarker("photos", "recent", ObjectManifest.NewVersionId(), now.AddDays(-1), "node-a");
        index.Commit(Manifest("old", 1));
        index.Commit(Manifest("recent", 2));
        Assert.NotNull(index.Delete(old));
        Assert.NotNull(index.Delete(recent));

        Assert.Equal(1, index.ExpireDeleteMarkers(now.AddDays(-30)));

        Assert.Null(index.TryGetDeleteMarker("photos", "old"));
        Assert.Equal(recent, index.TryGetDeleteMarker("photos", "recent"));
        Assert.Equal(0, index.ExpireDeleteMarkers(now.AddDays(-30)));
    }

    [Fact]
    public void Listing_by_prefix_is_exact_and_ordered()
    {
        using var index = new ObjectIndex(_dir.Path);
        foreach (var key in new[] { "b/2", "a/1", "b/1", "b", "c", "b%x", "b_/1" }) index.Commit(Manifest(key, 1));

        Assert.Equal(["b/1", "b/2"], index.List("photos", "b/", 100).Select(o => o.Key));
        Assert.Equal(["b", "b%x", "b/1", "b/2", "b_/1"], index.List("photos", "b", 100).Select(o => o.Key));
        Assert.Equal(["b/2"], index.List("photos", "b/", 100, startAfter: "b/1").Select(o => o.Key));
        Assert.Equal(new BucketSummary("photos", 7, 70), Assert.Single(index.ListBuckets()));
    }

    [Fact]
    public void A_version_s_chunks_come_page_by_page_and_only_while_it_is_current()
    {
        using var index = new ObjectIndex(_dir.Path);
        var manifest = Manifest("big", Enumerable.Range(0, 25).ToArray());
        index.Commit(manifest);

        var pages = Enumerable.Range(0, 4).Select(p => index.ChunkPage("photos", "big", manifest.VersionId, p * 7, 7)).ToList();
        Assert.Equal([7, 7, 7, 4], pages.Select(p => p!.Count));
        Assert.Equal(manifest.Chunks, pages.SelectMany(p => p!));
        Assert.Empty(index.ChunkPage("photos", "big", manifest.VersionId, 25, 7)!);
        Assert.Null(index.ChunkPage("photos", "big", "another-version", 0, 7));
        Assert.Null(index.ChunkPage("photos", "other-key", manifest.VersionId, 0, 7));

        var newer = Manifest("big", 1, 2);
        index.Commit(newer);
        Assert.Null(index.ChunkPage("photos", "big", manifest.VersionId, 0, 7));
        Assert.Equal(newer.Chunks, index.ChunkPage("photos", "big", newer.VersionId, 0, 7));
    }

    [Fact]
    public void Holdings_are_read_again_after_every_change_and_shared_until_then()
    {
        using var index = new ObjectIndex(_dir.Path);
        var first = Manifest("a", 1);
        index.Commit(first);
        var before = index.Holdings();
        Assert.Same(before, index.Holdings());
        Assert.Null(index.Delete("photos", "never-there")); // changes nothing

        Assert.Same(before, index.Holdings());
        index.Commit(Manifest("b", 2));
        var afterCommit = index.Holdings();
        Assert.NotSame(before, afterCommit);
        Assert.Equal(["a", "b"], afterCommit.Versions.Select(v => v.Key).Order());

        index.Delete(new DeleteMarker("photos", "a", ObjectManifest.NewVersionId(), DateTimeOffset.FromUnixTimeMilliseconds(++_clock), "node-a"));
        var afterDelete = index.Holdings();
        Assert.Equal(["b"], afterDelete.Versions.Select(v => v.Key));
        Assert.Equal(["a"], afterDelete.Markers.Select(m => m.Key));

        index.ExpireDeleteMarkers(DateTimeOffset.MaxValue);
        Assert.Empty(index.Holdings().Markers);
    }
}
