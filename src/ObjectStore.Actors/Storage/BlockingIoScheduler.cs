namespace ObjectStore.Actors.Storage;

/// <summary>
/// Runs the storage actors' blocking disk work (chunk writes that wait for the device, reads, the
/// group commit's syncfs) on threads of its own instead of the thread pool.
/// </summary>
/// <remarks>
/// Why: the actors run on the thread pool, which on a small machine has only a few threads; every
/// one of them blocked in an O_DIRECT write or a syncfs was one less for the actors and the chunk
/// hashing, and the pool adds threads only slowly (it cannot see a thread blocked in a system
/// call). Akka.NET's advice for blocking work is the same: keep it off the default dispatcher.
/// An idle thread sleeps on a monitor instead of spinning: BlockingCollection's wait (SemaphoreSlim) spins
/// with sched_yield before it blocks, and with 32 reader threads that spinning was 14 % of a node's CPU in
/// a one-node get, which is CPU-bound on two cores (docs/BENCHMARKS.md, "2026-12-02 (sixth step)").
/// </remarks>
internal sealed class BlockingIoScheduler : TaskScheduler, IDisposable
{
    private readonly Queue<Task> _tasks = new();
    private int _idle;
    private bool _disposed;

    public BlockingIoScheduler(int threads, string name)
    {
        for (var i = 0; i < threads; i++)
            new Thread(Run) { IsBackground = true, Name = $"{name} {i + 1}" }.Start();
        MaximumConcurrencyLevel = threads;
    }

    public override int MaximumConcurrencyLevel { get; }

    public Task<T> Run<T>(Func<T> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.DenyChildAttach, this);

    protected override void QueueTask(Task task)
    {
        // After Dispose (the actor stopped or restarted) work still handed in runs on the pool: a
        // write that was accepted must still finish or fail, never vanish.
        lock (_tasks)
        {
            if (!_disposed)
            {
                _tasks.Enqueue(task);
                if (_idle > 0) Monitor.Pulse(_tasks);
                return;
            }
        }
        ThreadPool.UnsafeQueueUserWorkItem(_ => TryExecuteTask(task), null);
    }

    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => false;

    protected override IEnumerable<Task> GetScheduledTasks()
    {
        lock (_tasks) return _tasks.ToArray();
    }

    /// <summary>Lets the threads finish what is queued, then end.</summary>
    public void Dispose()
    {
        lock (_tasks)
        {
            _disposed = true;
            Monitor.PulseAll(_tasks);
        }
    }

    private void Run()
    {
        while (Next() is { } task) TryExecuteTask(task);
    }

    /// <summary>The next queued task, waiting for one; null once disposed and drained.</summary>
    private Task? Next()
    {
        lock (_tasks)
        {
            while (_tasks.Count == 0)
            {
                if (_disposed) return null;
                _idle++;
                Monitor.Wait(_tasks);
                _idle--;
            }
            return _tasks.Dequeue();
        }
    }
}
