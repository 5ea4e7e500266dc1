using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace ObjectStore.Core.Storage;

/// <summary>
/// Writes a new file with O_DIRECT: the bytes go from our buffer to the device without a copy into
/// the page cache. A chunk is written once, flushed at once (group commit) and read rarely, so the page
/// cache only costs here: the kernel's copy into fresh page-cache pages was the largest part of a node's
/// CPU in a large put (docs/BENCHMARKS.md, "O_DIRECT"). MinIO writes objects the
/// same way. O_DIRECT wants the buffer, offset and length aligned to the device's block, so the bytes
/// are staged in an aligned buffer from a small pool and the last block is padded with zeros and cut
/// off with ftruncate. .NET has no O_DIRECT (FileOptions carries no such flag on Unix), hence libc.
/// </summary>
/// <remarks>
/// Durability is unchanged: data written with O_DIRECT may still sit in the device's volatile cache and
/// the file's size and extents are metadata, so the caller's syncfs/fsync is still needed and still
/// done. Where the file system refuses O_DIRECT (EINVAL at open, e.g. some FUSE or older tmpfs), the
/// caller falls back to a buffered write.
/// </remarks>
public static partial class DirectFileWriter
{
    /// <summary>4 KiB covers the logical block of every disk we expect (512 B or 4 KiB).</summary>
    public const int Alignment = 4096;

    private const int StagingSize = 4 * 1024 * 1024; // the default max chunk; larger ones get a buffer of their own
    private const int MaxPooledBuffers = 8;
    private const int EINTR = 4, EINVAL = 22;

    private static readonly ConcurrentBag<IntPtr> Pool = [];
    private static int _pooled;

    /// <summary>open(2) flags, which differ between architectures; null where we do not know them.</summary>
    private static readonly int? CreateDirectFlags = RuntimeInformation.ProcessArchitecture switch
    {
        // O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_DIRECT
        Architecture.X64 => 0x1 | 0x40 | 0x80 | 0x80000 | 0x4000,
        Architecture.Arm64 => 0x1 | 0x40 | 0x80 | 0x80000 | 0x10000,
        _ => null,
    };

    /// <summary>True where this process can try O_DIRECT at all (Linux on x64 or arm64).</summary>
    public static bool Available => OperatingSystem.IsLinux() && CreateDirectFlags is not null;

    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    private static partial int FTruncate(int fd, long length);

    /// <summary>
    /// Creates <paramref name="path"/> (it must not exist) holding <paramref name="data"/>, written with
    /// O_DIRECT. Returns false, creating nothing, when the file system or device does not take it.
    /// Throws <see cref="IOException"/> (with the system's message, e.g. "No space left on device") on
    /// any other failure; a partly written file is removed.
    /// </summary>
    public static bool TryWriteNew(string path, ReadOnlySpan<byte> data) => TryWriteNew(path, data, default);

    /// <summary>
    /// As <see cref="TryWriteNew(string, ReadOnlySpan{byte})"/>; when <paramref name="alignedPadded"/> holds
    /// <paramref name="data"/> padded with zeros to whole blocks, starting on a block boundary (see
    /// <see cref="Chunking.ChunkBuffer.AlignedPadded"/>), it is written as it is, without the staging copy.
    /// </summary>
    public static unsafe bool TryWriteNew(string path, ReadOnlySpan<byte> data, Span<byte> alignedPadded)
    {
        if (!Available) return false;
        var fd = DurableFiles.Open(path, CreateDirectFlags!.Value, DurableFiles.FileMode644);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != EINVAL) throw DurableFiles.Failure(errno, path);
            // Linux creates the file before it checks O_DIRECT (seen on ramfs): the empty file is ours
            // (O_EXCL), and the caller's buffered write needs the name.
            DurableFiles.TryDelete(path);
            return false;
        }
        var padded = (data.Length + Alignment - 1) / Alignment * Alignment;
        fixed (byte* given = alignedPadded)
        {
            var direct = alignedPadded.Length == padded && (long)given % Alignment == 0 && alignedPadded[..data.Length].Overlaps(data, out var offset) && offset == 0;
            return WritePadded(path, fd, data, padded, direct ? given : null);
        }
    }

    /// <summary>Writes <paramref name="padded"/> bytes: from <paramref name="ready"/> when given, else from a staging copy of <paramref name="data"/>.</summary>
    private static unsafe bool WritePadded(string path, int fd, ReadOnlySpan<byte> data, int padded, byte* ready)
    {
        if (ready is null) StagedWritesOnThisThread++;
        var staging = ready is not null ? IntPtr.Zero : padded <= StagingSize ? RentStaging() : (IntPtr)NativeMemory.AlignedAlloc((nuint)padded, Alignment);
        try
        {
            var buffer = ready is not null ? ready : (byte*)staging;
            if (ready is null)
            {
                data.CopyTo(new Span<byte>(buffer, data.Length));
                new Span<byte>(buffer + data.Length, padded - data.Length).Clear();
            }
            long offset = 0;
            while (offset < padded)
            {
                var written = DurableFiles.PWrite(fd, buffer + offset, (nint)(padded - offset), offset);
                if (written > 0) { offset += written; continue; }
                var errno = Marshal.GetLastPInvokeError();
                if (written < 0 && errno == EINTR) continue;
                if (written < 0 && errno == EINVAL && offset == 0)
                {
                    // The device wants a larger alignment than 4 KiB: not for us, the caller writes buffered.
                    DurableFiles.Close(fd);
                    fd = -1;
                    DurableFiles.TryDelete(path);
                    return false;
                }
                throw DurableFiles.Failure(written == 0 ? 28 /* ENOSPC: the device took nothing */ : errno, path);
            }
            if (padded != data.Length && FTruncate(fd, data.Length) != 0) throw DurableFiles.Failure(Marshal.GetLastPInvokeError(), path);
            var closed = DurableFiles.Close(fd);
            fd = -1;
            if (closed != 0) throw DurableFiles.Failure(Marshal.GetLastPInvokeError(), path);
            return true;
        }
        catch
        {
            if (fd >= 0) DurableFiles.Close(fd);
            DurableFiles.TryDelete(path);
            throw;
        }
        finally
        {
            if (staging != IntPtr.Zero)
            {
                if (padded <= StagingSize) ReturnStaging(staging);
                else NativeMemory.AlignedFree((void*)staging);
            }
        }
    }

    /// <summary>Writes on this thread that went through a staging copy (for tests: per thread, so parallel tests do not mix).</summary>
    [ThreadStatic] internal static int StagedWritesOnThisThread;


    private static unsafe IntPtr RentStaging()
    {
        if (Pool.TryTake(out var buffer))
        {
            Interlocked.Decrement(ref _pooled);
            return buffer;
        }
        return (IntPtr)NativeMemory.AlignedAlloc(StagingSize, Alignment);
    }

    /// <summary>Keeps a few buffers (as many as writes run at once); frees the rest.</summary>
    private static unsafe void ReturnStaging(IntPtr buffer)
    {
        if (Interlocked.Increment(ref _pooled) <= MaxPooledBuffers)
        {
            Pool.Add(buffer);
            return;
        }
        Interlocked.Decrement(ref _pooled);
        NativeMemory.AlignedFree((void*)buffer);
    }
}
