namespace ObjectStore.Actors.Threading;

/// <summary>
/// A queue for threads of our own (storage I/O, a put's hashing) whose consumers sleep while it is empty and
/// are woken one per item. Why not BlockingCollection: its wait (SemaphoreSlim) spins with sched_yield before it
/// blocks, and on two cores those idle threads took the CPU the work needed — 14 % of a node's samples in a one-node
/// 1 GiB get with 32 reader threads, 5 % (the hashing thread's) in a put -r of a tree
/// (docs/BENCHMARKS.md, "2026-12-02 (sixth step)").
/// </summary>
internal sealed class SleepingQueue<T>
{
    private readonly Queue<T> _items = new();
    private int _sleepers;
    private bool _completed;

    /// <summary>Adds an item and wakes one sleeping consumer; false, adding nothing, once <see cref="CompleteAdding"/> was called.</summary>
    public bool TryAdd(T item)
    {
        lock (_items)
        {
            if (_completed) return false;
            _items.Enqueue(item);
            if (_sleepers > 0) Monitor.Pulse(_items);
            return true;
        }
    }

    /// <summary>No more items: consumers take what is queued, then <see cref="TryTake"/> answers false.</summary>
    public void CompleteAdding()
    {
        lock (_items)
        {
            _completed = true;
            Monitor.PulseAll(_items);
        }
    }

    public bool IsAddingCompleted
    {
        get
        {
            lock (_items) return _completed;
        }
    }

    /// <summary>The next item, sleeping until there is one; false once adding is complete and the queue is empty.</summary>
    public bool TryTake(out T item)
    {
        lock (_items)
        {
            while (_items.Count == 0)
            {
                if (_completed)
                {
                    item = default!;
                    return false;
                }
                _sleepers++;
                Monitor.Wait(_items);
                _sleepers--;
            }
            item = _items.Dequeue();
            return true;
        }
    }

    /// <summary>The items queued now (for a debugger's view of a scheduler).</summary>
    public T[] Snapshot()
    {
        lock (_items) return _items.ToArray();
    }
}
