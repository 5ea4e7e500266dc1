using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Storage;

namespace ObjectStore.Actors.Client;

/// <summary>
/// A stream of unknown length (stdin, a FIFO) read to its end into a temp file, so that it can be put
/// like any file: a put announces its size before the first byte, and the node may read the file itself.
/// Every wait is bounded: no writer, or no data, for the idle timeout ends it, and so does Ctrl+C.
/// </summary>
public sealed class SpooledInput : IDisposable
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);

    private SpooledInput(string path) => Path = path;

    /// <summary>The temp file holding the stream's bytes; removed on dispose.</summary>
    public string Path { get; }

    public void Dispose() => DurableFiles.TryDelete(Path);

    /// <param name="name">How the user named the input ("stdin", the FIFO's path), for errors.</param>
    /// <param name="fifo">The FIFO's path, to wake a reader still waiting for a writer when it gives up; null for stdin.</param>
    public static async Task<SpooledInput> ReadAsync(Func<Stream> open, string name, string? fifo, long limit, TimeSpan idle, CancellationToken cancel)
    {
        var spool = new SpooledInput(System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"objectstore-input-{Guid.NewGuid():N}"));
        var progress = new Progress();
        // Blocking reads on a thread of their own: a FIFO's open waits for a writer, and neither that
        // nor a read of a silent pipe can be cancelled; the caller stops waiting instead.
        var copy = Task.Factory.StartNew(() => Copy(open, spool.Path, limit, name, progress), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            var lastBytes = -1L;
            var lastChange = DateTime.UtcNow;
            while (!copy.IsCompleted)
            {
                await Task.WhenAny(copy, Task.Delay(Poll, cancel));
                cancel.ThrowIfCancellationRequested();
                var bytes = Interlocked.Read(ref progress.Bytes);
                if (bytes != lastBytes) (lastBytes, lastChange) = (bytes, DateTime.UtcNow);
                else if (DateTime.UtcNow - lastChange > idle)
                    throw new StoreException(StoreErrorCode.Timeout, progress.Opened
                        ? $"{name}: no data for {idle.TotalSeconds:0}s after {bytes} bytes (objectstore.transfer.idle-timeout); nothing was stored"
                        : $"{name}: no writer opened it within {idle.TotalSeconds:0}s (objectstore.transfer.idle-timeout); nothing was stored");
            }
            await copy; // its error, if any
            return spool;
        }
        catch
        {
            progress.Abandoned = true;
            if (fifo is not null && !progress.Opened) LocalFile.WakeFifoReader(fifo);
            // The copy may still hold the file: remove it once it lets go.
            _ = copy.ContinueWith(_ => spool.Dispose(), TaskScheduler.Default);
            throw;
        }
    }

    private sealed class Progress
    {
        public long Bytes;
        public volatile bool Opened;
        public volatile bool Abandoned;
    }

    private static void Copy(Func<Stream> open, string path, long limit, string name, Progress progress)
    {
        using var input = open();
        progress.Opened = true;
        if (progress.Abandoned) return;
        using var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1 << 20);
        var buffer = new byte[1 << 20];
        int read;
        while (!progress.Abandoned && (read = input.Read(buffer)) > 0)
        {
            if (Interlocked.Add(ref progress.Bytes, read) > limit)
                throw new StoreException(StoreErrorCode.InvalidRequest,
                    $"{name} is larger than objectstore.transfer.stream-input-limit ({Shell.Sizes.Human(limit)}); nothing was stored");
            output.Write(buffer, 0, read);
        }
    }
}
