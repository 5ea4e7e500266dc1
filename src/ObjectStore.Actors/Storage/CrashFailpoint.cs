using System.Diagnostics;

namespace ObjectStore.Actors.Storage;

/// <summary>
/// Failpoints for crash tests: set in a node's environment, the node kills itself with SIGKILL (as
/// <c>kill -9</c> would: no shutdown hooks, no flushing) at a chosen point inside a put.
/// <c>OBJECTSTORE_FAILPOINT_KILL_AFTER_CHUNK_WRITES=N</c>: right after writing its N-th chunk file.
/// <c>OBJECTSTORE_FAILPOINT_KILL_BEFORE_INDEX_COMMIT=1</c>: when a put's chunks are all durable and its
/// object is about to be committed.
/// <c>OBJECTSTORE_FAILPOINT_STALL_AFTER_CHUNK_WRITES=N</c>: not a kill — after its N-th chunk file the node's
/// chunk writes stall until a put is cancelled on this node (or a minute passes), so a test can cancel a
/// put that is surely in flight. A test that killed the node from outside when the shell reported
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

    private static long _written;

    public static void ChunkWritten()
    {
        if (KillAfter == 0 && StallAfter == 0) return;
        var written = Interlocked.Increment(ref _written);
        if (written == KillAfter) Kill($"after {KillAfter} chunk writes");
        if (written != StallAfter) return;
        Console.Error.WriteLine($"failpoint: stalling chunk writes after {StallAfter} until a put is cancelled");
        Cancelled.Wait(TimeSpan.FromMinutes(1));
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
