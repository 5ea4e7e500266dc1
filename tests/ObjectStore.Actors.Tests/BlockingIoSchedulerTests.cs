using ObjectStore.Actors.Storage;
using Xunit;

namespace ObjectStore.Actors.Tests;

/// <summary>The storage actors' own threads: every task handed in runs, on them, in parallel, before and after Dispose.</summary>
public class BlockingIoSchedulerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact(Timeout = 30_000)]
    public async Task Runs_every_task_on_its_own_threads_as_many_at_once_as_it_has()
    {
        using var scheduler = new BlockingIoScheduler(4, "test io");
        // Four tasks that each wait for all four: they finish only if the four threads run them at once.
        using var together = new Barrier(4);
        var blocked = Enumerable.Range(0, 4)
            .Select(_ => scheduler.Run(() => together.SignalAndWait(Bound) ? Thread.CurrentThread.Name : "timed out")).ToArray();
        var names = await Task.WhenAll(blocked).WaitAsync(Bound);
        Assert.All(names, name => Assert.StartsWith("test io ", name));
        Assert.Equal(4, names.Distinct().Count());

        // Many more tasks than threads, handed in from several threads at once: none lost, none run twice.
        var runs = new int[2_000];
        var queued = Enumerable.Range(0, 4).Select(part => Task.Run(() =>
            Enumerable.Range(part * 500, 500).Select(i => scheduler.Run(() => Interlocked.Increment(ref runs[i]))).ToArray())).ToArray();
        var all = (await Task.WhenAll(queued)).SelectMany(tasks => tasks);
        await Task.WhenAll(all).WaitAsync(Bound);
        Assert.All(runs, count => Assert.Equal(1, count));
    }

    [Fact(Timeout = 30_000)]
    public async Task After_Dispose_what_was_queued_still_runs_and_what_comes_later_runs_on_the_pool()
    {
        var scheduler = new BlockingIoScheduler(1, "test io");
        using var release = new ManualResetEventSlim();
        var first = scheduler.Run(() => release.Wait(Bound));
        var queued = scheduler.Run(() => Thread.CurrentThread.Name);
        scheduler.Dispose();
        release.Set();
        Assert.True(await first.WaitAsync(Bound));
        Assert.Equal("test io 1", await queued.WaitAsync(Bound));
        var later = scheduler.Run(() => Thread.CurrentThread.IsThreadPoolThread);
        Assert.True(await later.WaitAsync(Bound));
    }
}
