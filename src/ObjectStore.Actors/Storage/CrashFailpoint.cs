using System.Diagnostics;

namespace ObjectStore.Actors.Storage;

/// <summary>
/// A failpoint for crash tests: with <c>OBJECTSTORE_FAILPOINT_KILL_AFTER_CHUNK_WRITES=N</c> in its
/// environment, the node kills itself with SIGKILL (as <c>kill -9</c> would: no shutdown hooks, no
/// flushing) right after writing its N-th chunk file, i.e. at a chosen point inside a put. A test
/// that killed the node from outside when the shell reported progress raced the node and lost on a
/// fast machine. Unset (always, outside tests), it costs one comparison per chunk written.
/// </summary>
internal static class CrashFailpoint
{
    private static readonly long KillAfter =
        long.TryParse(Environment.GetEnvironmentVariable("OBJECTSTORE_FAILPOINT_KILL_AFTER_CHUNK_WRITES"), out var n) && n > 0 ? n : 0;

    private static long _written;

    public static void ChunkWritten()
    {
        if (KillAfter == 0 || Interlocked.Increment(ref _written) != KillAfter) return;
        Console.Error.WriteLine($"failpoint: killing the node after {KillAfter} chunk writes");
        Process.GetCurrentProcess().Kill();
    }
}
