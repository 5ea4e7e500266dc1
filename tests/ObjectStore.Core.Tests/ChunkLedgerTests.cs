using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;

namespace ObjectStore.Core.Tests;

public class ChunkLedgerTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);

    public void Dispose() => _dir.Dispose();

    private static ContentHash H(int i) => ContentHash.Compute(BitConverter.GetBytes(i));

    [Fact]
    public void Pins_survive_reopening_once_flushed_with_their_lease()
    {
        using (var ledger = new ChunkLedger(_dir.Path))
        {
            ledger.Pin("put-1", H(1), Now.AddMinutes(10));
            ledger.Pin("put-1", H(2), Now.AddMinutes(10));
            ledger.Pin("put-2", H(2), Now.AddMinutes(5));
            Assert.True(ledger.HasUnsavedChanges);
            ledger.Flush();
            Assert.False(ledger.HasUnsavedChanges);
        }
        using (var reopened = new ChunkLedger(_dir.Path))
        {
            Assert.True(reopened.IsPinned(H(1)));
            Assert.True(reopened.IsPinned(H(2)));
            Assert.False(reopened.IsPinned(H(3)));
            Assert.Equal(new[] { H(1), H(2) }.Order(), reopened.PinsOf("put-1").Order());
            Assert.Equal(["put-2"], reopened.Expired(Now.AddMinutes(6)));
        }
    }

    [Fact]
    public void Unflushed_pins_are_not_persisted()
    {
        using (var ledger = new ChunkLedger(_dir.Path)) ledger.Pin("put-1", H(1), Now.AddMinutes(10));
        using var reopened = new ChunkLedger(_dir.Path);
        Assert.False(reopened.IsPinned(H(1)));
    }

    [Fact]
    public void A_chunk_stays_pinned_while_any_put_holds_it_and_release_is_persisted()
    {
        using (var ledger = new ChunkLedger(_dir.Path))
        {
            ledger.Pin("put-1", H(1), Now.AddMinutes(10));
            ledger.Pin("put-2", H(1), Now.AddMinutes(10));
            ledger.Flush();
            Assert.Equal([H(1)], ledger.Release("put-1"));
            Assert.True(ledger.IsPinned(H(1)));
            Assert.Empty(ledger.Release("put-1"));
            ledger.Flush();
        }
        using (var reopened = new ChunkLedger(_dir.Path))
        {
            Assert.True(reopened.IsPinned(H(1)));
            Assert.Empty(reopened.PinsOf("put-1"));
            reopened.Release("put-2");
            Assert.False(reopened.IsPinned(H(1)));
            reopened.Flush();
        }
        using var again = new ChunkLedger(_dir.Path);
        Assert.Equal(0, again.UploadCount);
    }

    [Fact]
    public void A_lease_is_extended_by_news_of_its_put_and_never_shortened()
    {
        using var ledger = new ChunkLedger(_dir.Path);
        ledger.Pin("put-1", H(1), Now.AddMinutes(1));
        ledger.Extend("put-1", Now.AddMinutes(10));
        ledger.Pin("put-1", H(2), Now.AddMinutes(2));
        Assert.Empty(ledger.Expired(Now.AddMinutes(5)));
        Assert.Equal(["put-1"], ledger.Expired(Now.AddMinutes(11)));
    }

    [Fact]
    public void A_lease_is_saved_again_only_once_it_has_moved_by_the_slack()
    {
        using (var ledger = new ChunkLedger(_dir.Path) { LeaseSlack = TimeSpan.FromMinutes(2) })
        {
            ledger.Pin("put-1", H(1), Now.AddMinutes(10));
            ledger.Flush();
            ledger.Extend("put-1", Now.AddMinutes(11));
            Assert.False(ledger.HasUnsavedChanges);
            ledger.Extend("put-1", Now.AddMinutes(13));
            Assert.True(ledger.HasUnsavedChanges);
            ledger.Flush();
        }
        using var reopened = new ChunkLedger(_dir.Path);
        Assert.Empty(reopened.Expired(Now.AddMinutes(12)));
        Assert.Equal(["put-1"], reopened.Expired(Now.AddMinutes(14)));
    }

    [Fact]
    public void A_put_of_several_chunks_is_saved_before_its_commit_one_of_a_single_chunk_is_not()
    {
        using var ledger = new ChunkLedger(_dir.Path);
        ledger.Pin("small", H(1), Now.AddMinutes(10));
        ledger.Pin("large", H(2), Now.AddMinutes(10));
        ledger.Pin("large", H(3), Now.AddMinutes(10));
        Assert.False(ledger.ShouldSaveBeforeCommit("small"));
        Assert.True(ledger.ShouldSaveBeforeCommit("large"));
        ledger.Flush();
        Assert.False(ledger.ShouldSaveBeforeCommit("large"));
        Assert.False(ledger.ShouldSaveBeforeCommit("unknown"));
    }

    [Fact]
    public void A_put_that_begins_and_ends_between_flushes_writes_nothing()
    {
        using var ledger = new ChunkLedger(_dir.Path);
        ledger.Pin("put-1", H(1), Now.AddMinutes(10));
        ledger.Release("put-1");
        Assert.False(ledger.HasUnsavedChanges);
    }

    [Fact]
    public void A_put_released_and_seen_again_before_a_flush_is_written_as_seen_last()
    {
        using (var ledger = new ChunkLedger(_dir.Path))
        {
            ledger.Pin("put-1", H(1), Now.AddMinutes(10));
            ledger.Flush();
            ledger.Release("put-1");
            ledger.Pin("put-1", H(2), Now.AddMinutes(10));
            ledger.Flush();
        }
        using var reopened = new ChunkLedger(_dir.Path);
        Assert.Equal([H(2)], reopened.PinsOf("put-1"));
        Assert.False(reopened.IsPinned(H(1)));
    }
}
