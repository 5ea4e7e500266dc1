using ObjectStore.Actors.Threading;
using Xunit;

namespace ObjectStore.Actors.Tests;

/// <summary>The queue our own threads sleep on: items in order, a sleeping consumer woken by an add, drained after completion.</summary>
public class SleepingQueueTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact(Timeout = 30_000)]
    public async Task A_consumer_sleeps_until_an_item_comes_and_takes_them_in_order()
    {
        var queue = new SleepingQueue<int>();
        using var waiting = new ManualResetEventSlim();
        var taken = Task.Factory.StartNew(() =>
        {
            var items = new List<int>();
            waiting.Set();
            while (items.Count < 3 && queue.TryTake(out var item)) items.Add(item);
            return items;
        }, TaskCreationOptions.LongRunning);
        Assert.True(waiting.Wait(Bound));
        Assert.False(taken.IsCompleted); // nothing queued yet: it waits (it cannot have taken anything)
        foreach (var i in new[] { 7, 8, 9 }) Assert.True(queue.TryAdd(i));
        Assert.Equal([7, 8, 9], await taken.WaitAsync(Bound));
    }

    [Fact(Timeout = 30_000)]
    public async Task After_CompleteAdding_the_queue_drains_then_answers_false_and_refuses_more()
    {
        var queue = new SleepingQueue<string>();
        Assert.True(queue.TryAdd("a"));
        Assert.True(queue.TryAdd("b"));
        queue.CompleteAdding();
        Assert.True(queue.IsAddingCompleted);
        Assert.False(queue.TryAdd("c"));
        Assert.Equal(["a", "b"], queue.Snapshot());
        Assert.True(queue.TryTake(out var first) && first == "a");
        Assert.True(queue.TryTake(out var second) && second == "b");
        Assert.False(queue.TryTake(out _));

        // A consumer asleep on an empty queue is woken by the completion, not left hanging.
        var empty = new SleepingQueue<int>();
        var sleeper = Task.Factory.StartNew(() => empty.TryTake(out _), TaskCreationOptions.LongRunning);
        empty.CompleteAdding();
        Assert.False(await sleeper.WaitAsync(Bound));
    }
}
