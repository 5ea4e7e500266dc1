using System.Diagnostics;

namespace ObjectStore.Actors.Storage;

/// <summary>
/// Failpoints for crash tests: set in a node's environment, the node kills itself with SIGKILL (as
/// <c>kill -9</c> would: no shutdown hooks, no flushing) at a chosen point inside a put.
/// <c>OBJECTSTORE_FAILPOINT_KILL_AFTER_CHUNK_WRITES=N</c>: right after writing its N-th chunk file.
/// <c>OBJECTSTORE_FAILPOINT_KILL_BEFORE_INDEX_COMMIT=1</c>: when a put's chunks are all durable and its
/// object is about to be committed. A test that killed the node from outside when the shell reported
/// progress raced the node and lost on a fast machine. Unset (always, outside tests), each costs one
/// comparison.
/// </summary>
internal static class CrashFailpoint
{
    private static readonly long KillAfter =
        long.TryParse(Environment.GetEnvironmentVariable("OBJECTSTORE_FAILPOINT_KILL_AFTER_CHUNK_WRITES"), out var n) && n > 0 ? n : 0;

    private static readonly bool KillBeforeCommit = Environment.GetEnvironmentVariable("OBJECTSTORE_FAILPOINT_KILL_BEFORE_INDEX_COMMIT") == "1";

    private static long _written;

    public static void ChunkWritten()
    {
        if (KillAfter == 0 || Interlocked.Increment(ref _written) != KillAfter) return;
        Kill($"after {KillAfter} chunk writes");
    }

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
