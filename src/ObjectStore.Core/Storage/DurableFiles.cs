using System.Runtime.InteropServices;

namespace ObjectStore.Core.Storage;

/// <summary>
/// The pieces of an atomic durable write that .NET does not offer: fsync of a directory, so that a
/// rename survives a power loss. FileStream cannot open a directory, hence the two libc calls.
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
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "syncfs", SetLastError = true)]
    private static partial int SyncFs(int fd);

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
