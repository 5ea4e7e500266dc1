using ObjectStore.Core.Metadata;

namespace ObjectStore.Core.Tests;

public class RepairQueueTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);

    public void Dispose() => _dir.Dispose();

    private static RepairEntry Entry(string version, string target, long bytes = 100) => new(version, target, "b", "k-" + version, bytes, "put acknowledged at quorum");

    [Fact]
    public void Entries_survive_reopening_and_come_due_in_order_of_their_next_try()
    {
        using (var queue = new RepairQueue(_dir.Path))
        {
            queue.Add([Entry("v1", "n2"), Entry("v2", "n3", 50)], Now);
            queue.Add([Entry("v0", "n2") with { NextTry = Now.AddSeconds(-1) }], Now);
        }
        using var reopened = new RepairQueue(_dir.Path);
        var due = reopened.Due(Now, 10);
        Assert.Equal(["v0", "v1", "v2"], due.Select(e => e.VersionId));
        Assert.Equal(3, reopened.Count());
        var backlog = reopened.Backlog();
        Assert.Equal((2L, 200L), backlog["n2"]);
        Assert.Equal((1L, 50L), backlog["n3"]);
    }

    [Fact]
    public void A_failed_entry_waits_for_its_delay_and_counts_its_attempts_and_a_done_one_goes()
    {
        using var queue = new RepairQueue(_dir.Path);
        queue.Add([Entry("v1", "n2"), Entry("v2", "n2")], Now);
        queue.Retry("v1", "n2", "n2 is unreachable", TimeSpan.FromSeconds(4), Now);
        Assert.Equal(["v2"], queue.Due(Now, 10).Select(e => e.VersionId));
        var later = queue.Due(Now.AddSeconds(5), 10).Single(e => e.VersionId == "v1");
        Assert.Equal(1, later.Attempts);
        Assert.Equal("n2 is unreachable", later.LastError);
        queue.Remove("v2", "n2");
        Assert.Equal(1, queue.Count());
    }

    [Fact]
    public void Adding_an_entry_again_keeps_its_attempts_and_busy_entries_are_skipped()
    {
        using var queue = new RepairQueue(_dir.Path);
        queue.Add([Entry("v1", "n2"), Entry("v2", "n2")], Now);
        queue.Retry("v1", "n2", "timeout", TimeSpan.FromSeconds(4), Now);
        queue.Add([Entry("v1", "n2")], Now);
        Assert.Equal(1, queue.Due(Now.AddSeconds(5), 10).Single(e => e.VersionId == "v1").Attempts);
        Assert.Equal(["v1"], queue.Due(Now.AddSeconds(5), 10, new HashSet<(string, string)> { ("v2", "n2") }).Select(e => e.VersionId));
    }

    [Fact]
    public void Waking_a_target_makes_its_copies_due_now_and_restarts_their_backoff()
    {
        using var queue = new RepairQueue(_dir.Path);
        queue.Add([Entry("v1", ""), Entry("v2", "n2")], Now);
        queue.Retry("v1", "", "no node for the copy yet", TimeSpan.FromMinutes(5), Now);
        queue.Retry("v2", "n2", "n2 is unreachable", TimeSpan.FromMinutes(5), Now);
        Assert.Empty(queue.Due(Now.AddSeconds(1), 10));

        queue.WakeTarget("", Now.AddSeconds(1));

        var due = Assert.Single(queue.Due(Now.AddSeconds(1), 10));
        Assert.Equal(("v1", 0), (due.VersionId, due.Attempts));
        Assert.Equal((1L, 100L), queue.Backlog()[""]);
    }
}
