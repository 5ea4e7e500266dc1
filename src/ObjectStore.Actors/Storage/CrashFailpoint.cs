using System.Diagnostics;

namespace ObjectStore.Actors.Storage;

/// <summary>
/// Failpoints for crash tests: set in a node's environment, the node kills itself with SIGKILL (as
/// <c>kill -9</c> would: no shutdown hooks, no flushing) at a chosen point inside a put.
/// <c>OBJECTSTORE_FAILPOINT_KILL_AFTER_CHUNK_WRITES=N</c>: right after writing its N-th chunk file.
/// <c>OBJECTSTORE_FAILPOINT_KILL_BEFORE_INDEX_COMMIT=1</c>: when a put's chunks are all durable and its
/// object is about to be committed.
/// <c>OBJECTSTORE_FAILPOINT_STALL_AFTER_CHUNK_WRITES=N</c>: not a kill — from its N-th chunk file on, each of the
/// node's chunk writes waits three seconds until a put is cancelled on this node, so a test can
/// cancel a put that is surely in flight and still moving. A test that killed the node from outside when the shell reported
/// progress raced the node and lost on a fast machine. Unset (always, outside tests), each costs one
/// comparison.
/// </summary>
internal static class CrashFailpoint
{
    private static readonly long KillAfter =
        long.TryParse(Environment.GetEnvironmentVariable("OBJECTSTORE_FAILPOINT_KILL_AFTER_CHUNK_WRITES"), out var n) && n > 0 ? n : 0;

    private static readonly bool KillBeforeCommit = Environment.GetEnvironmentVariable("OBJECTSTORE_FAILPOINT_KILL_BEFORE_INDEX_COMMIT") == "1";

    private static readonly long StallAfter =
        long.TryParse(Environment.GetEnvironmentVariable("OBJECTSTORE_FAILPOINT_STALL_AFTER_CHUNK_WRITES"), out var s) && s > 0 ? s : 0;

    private static readonly ManualResetEventSlim Cancelled = new();

    /// <summary>
    /// How long each chunk write waits once the stall failpoint is reached: with 8 writer threads the rest of a
    /// 256 MiB put then takes a minute and more. Shorter waits (a quarter second, a second) left the Ctrl+C
    /// test's signal arriving after the put had finished under the whole suite, where the test process itself
    /// is slow to see the node's log line it waits for.
    /// </summary>
    private static readonly TimeSpan SlowWrite = TimeSpan.FromSeconds(3);

    private static long _written;

    public static void ChunkWritten()
    {
        if (KillAfter == 0 && StallAfter == 0) return;
        var written = Interlocked.Increment(ref _written);
        if (written == KillAfter) Kill($"after {KillAfter} chunk writes");
        if (StallAfter == 0 || written < StallAfter) return;
        // Every write from the N-th on is slowed, on every writer thread. With only the N-th one held, the
        // other threads went on and the put could finish before the test's Ctrl+C; with every write held
        // until the cancel, nothing moved at all and, under the whole suite, the cancel once went unanswered.
        if (written == StallAfter) Console.Error.WriteLine($"failpoint: stalling chunk writes after {StallAfter} until a put is cancelled");
        Cancelled.Wait(SlowWrite);
    }

    /// <summary>A put was cancelled on this node: chunk writes stalled by the failpoint go on.</summary>
    public static void PutCancelled() => Cancelled.Set();

    public static void BeforeIndexCommit()
    {
        if (KillBeforeCommit) Kill("before an index commit");
    }

    private static void Kill(string where)
    {
        Console.Error.WriteLine($"failpoint: killing the node {where}");
        Process.GetCurrentProcess().Kill();
    }
}
