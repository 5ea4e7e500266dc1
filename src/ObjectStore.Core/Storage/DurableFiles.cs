using System.Runtime.InteropServices;

namespace ObjectStore.Core.Storage;

/// <summary>
/// The pieces of an atomic durable write that .NET does not offer: fsync of a directory, so that a
/// rename survives a power loss (FileStream cannot open a directory), a rename that refuses to replace,
/// and a new file written without FileStream's bookkeeping. Hence the libc calls.
/// </summary>
public static partial class DurableFiles
{
    /// <summary>O_RDONLY | O_DIRECTORY: the flag's value differs between architectures (arm64 swaps it with O_DIRECT).</summary>
    private static readonly int ReadOnlyDirectory = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x4000 : 0x10000;

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "syncfs", SetLastError = true)]
    private static partial int SyncFs(int fd);

    [LibraryImport("libc", EntryPoint = "renameat2", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int RenameAt2(int fromDirectory, string from, int toDirectory, string to, uint flags);

    // Shared with DirectFileWriter, which writes new files the same way with O_DIRECT.
    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "pwrite", SetLastError = true)]
    internal static unsafe partial nint PWrite(int fd, byte* buffer, nint count, long offset);

    private const int AtCurrentDirectory = -100, RenameNoReplace = 1;
    private const int ENOENT = 2, EINTR = 4, EEXIST = 17, EINVAL = 22, ENOSYS = 38;
    /// <summary>O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC: the same values on x64 and arm64.</summary>
    private const int CreateNewForWriting = 0x1 | 0x40 | 0x80 | 0x80000;
    internal const int FileMode644 = 0x1A4; // rw-r--r--, as FileStream creates files (before the umask)
    private static volatile bool _noRenameNoReplace = !OperatingSystem.IsLinux();

    /// <summary>
    /// Flushes every dirty page and the journal of the file system holding <paramref name="path"/> in
    /// one call (Linux syncfs), what `sync` does for one file system. Returns false where the call does
    /// not exist, so the caller can fsync file by file instead.
    /// </summary>
    public static bool TrySyncFileSystem(string path)
    {
        if (!OperatingSystem.IsLinux()) return false;
        var fd = Open(path, ReadOnlyDirectory);
        if (fd < 0) throw new IOException($"cannot open {path} to sync its file system (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            if (SyncFs(fd) != 0) throw new IOException($"syncfs of {path} failed (errno {Marshal.GetLastPInvokeError()})");
            return true;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
        finally
        {
            Close(fd);
        }
    }

    /// <summary>A failed system call on <paramref name="path"/> as .NET words it: the system's message, then the path.</summary>
    internal static IOException Failure(int errno, string path) => new(Message(errno, $"'{path}'"));

    /// <summary>As <see cref="Failure"/>, but a missing directory (ENOENT) is a DirectoryNotFoundException, as File.Move and FileStream throw it.</summary>
    private static IOException FailureOrMissingDirectory(int errno, string quotedPaths) =>
        errno == ENOENT ? new DirectoryNotFoundException(Message(errno, quotedPaths)) : new IOException(Message(errno, quotedPaths));

    private static string Message(int errno, string quotedPaths) => $"{Marshal.GetPInvokeErrorMessage(errno)} : {quotedPaths}";

    /// <summary>What <see cref="TryRenameNoReplace"/> did.</summary>
    public enum RenameOutcome { Renamed, TargetExists, Unsupported }

    /// <summary>
    /// Renames <paramref name="from"/> to <paramref name="to"/> unless <paramref name="to"/> exists (Linux
    /// renameat2 with RENAME_NOREPLACE): one system call where File.Move with its checks takes three file
    /// lookups more, and it says whether the name was new. Unsupported where the kernel, the C library or the
    /// file system lacks it (the caller then moves the usual way). A missing directory on either side throws
    /// <see cref="DirectoryNotFoundException"/>, as File.Move does.
    /// </summary>
    public static RenameOutcome TryRenameNoReplace(string from, string to)
    {
        if (_noRenameNoReplace) return RenameOutcome.Unsupported;
        int result;
        try
        {
            result = RenameAt2(AtCurrentDirectory, from, AtCurrentDirectory, to, RenameNoReplace);
        }
        catch (EntryPointNotFoundException)
        {
            _noRenameNoReplace = true;
            return RenameOutcome.Unsupported;
        }
        if (result == 0) return RenameOutcome.Renamed;
        var errno = Marshal.GetLastPInvokeError();
        switch (errno)
        {
            case EEXIST:
                return RenameOutcome.TargetExists;
            case EINVAL or ENOSYS:
                _noRenameNoReplace = true;
                return RenameOutcome.Unsupported;
            default:
                throw FailureOrMissingDirectory(errno, $"'{from}' -> '{to}'");
        }
    }

    /// <summary>
    /// Creates <paramref name="path"/>, which must not exist, holding <paramref name="data"/> (no fsync). On
    /// Linux it is open, pwrite and close: a FileStream also takes and drops a flock and asks fstat and lseek,
    /// which for a chunk of a few KiB was most of its system calls. A failed write removes the file and throws
    /// <see cref="IOException"/> with the system's message ("No space left on device").
    /// </summary>
    public static unsafe void WriteNew(string path, ReadOnlySpan<byte> data)
    {
        if (!OperatingSystem.IsLinux())
        {
            using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.None);
            stream.Write(data);
            return;
        }
        var fd = Open(path, CreateNewForWriting, FileMode644);
        if (fd < 0)
        {
            throw FailureOrMissingDirectory(Marshal.GetLastPInvokeError(), $"'{path}'");
        }
        try
        {
            fixed (byte* bytes = data)
            {
                long offset = 0;
                while (offset < data.Length)
                {
                    var written = PWrite(fd, bytes + offset, (nint)(data.Length - offset), offset);
                    if (written > 0) { offset += written; continue; }
                    var errno = Marshal.GetLastPInvokeError();
                    if (written < 0 && errno == EINTR) continue;
                    throw Failure(written == 0 ? 28 /* ENOSPC: nothing taken */ : errno, path);
                }
            }
            var closed = Close(fd);
            fd = -1;
            if (closed != 0) throw Failure(Marshal.GetLastPInvokeError(), path);
        }
        catch
        {
            if (fd >= 0) Close(fd);
            TryDelete(path);
            throw;
        }
    }

    /// <summary>Deletes a file if it can; a temp file that cannot be removed now is removed at the next start.</summary>
    public static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>fsync of one file's data and metadata.</summary>
    public static void SyncFile(string path)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
        RandomAccess.FlushToDisk(handle);
    }

    /// <summary>Makes the directory's entries (a rename, a new file) durable. A no-op off Linux/Unix.</summary>
    public static void SyncDirectory(string path)
    {
        if (OperatingSystem.IsWindows()) return;
        var fd = Open(path, ReadOnlyDirectory);
        if (fd < 0) throw new IOException($"cannot open directory {path} to sync it (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            if (Fsync(fd) != 0) throw new IOException($"fsync of directory {path} failed (errno {Marshal.GetLastPInvokeError()})");
        }
        finally
        {
            Close(fd);
        }
    }

    /// <summary>Writes a whole file atomically: temp file in the same directory, fsync, rename, fsync directory.</summary>
    public static void WriteAtomic(string path, ReadOnlySpan<byte> content, bool fsync = true)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.None))
        {
            stream.Write(content);
            if (fsync) stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
        if (fsync) SyncDirectory(directory);
    }
}
