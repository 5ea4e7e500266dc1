using ObjectStore.Actors.Threading;

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
/// Idle threads sleep without spinning (<see cref="SleepingQueue{T}"/>).
/// </remarks>
internal sealed class BlockingIoScheduler : TaskScheduler, IDisposable
{
    private readonly SleepingQueue<Task> _tasks = new();

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
        if (!_tasks.TryAdd(task)) ThreadPool.UnsafeQueueUserWorkItem(_ => TryExecuteTask(task), null);
    }

    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => false;

    protected override IEnumerable<Task> GetScheduledTasks() => _tasks.Snapshot();

    /// <summary>Lets the threads finish what is queued, then end.</summary>
    public void Dispose() => _tasks.CompleteAdding();

    private void Run()
    {
        while (_tasks.TryTake(out var task)) TryExecuteTask(task);
    }
}
