using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using ObjectStore.Core.Chunking;

namespace ObjectStore.Core.Storage;

/// <summary>
/// Reads a whole file into a pooled <see cref="ChunkBuffer"/> (no fresh array to fault in and collect), when
/// asked with O_DIRECT where the buffer is aligned (chunks of <see cref="ChunkBuffer.AlignedMinimum"/> and
/// more): the device writes straight into the buffer, with no copy out of the page cache — less CPU, but on
/// some devices slower than buffered reads with read-ahead (docs/BENCHMARKS.md). Smaller files, and file
/// systems that refuse O_DIRECT, are read through the page cache into the same kind of buffer. .NET has no O_DIRECT on Unix
/// (FileOptions carries no such flag), hence open(2) from libc, as in <see cref="DirectFileWriter"/>.
/// </summary>
public static partial class DirectFileReader
{
    private const int ENOENT = 2, EINVAL = 22;

    /// <summary>open(2) flags: O_RDONLY | O_CLOEXEC | O_DIRECT; null where we do not know them.</summary>
    private static readonly int? ReadDirectFlags = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 0x80000 | 0x4000,
        Architecture.Arm64 => 0x80000 | 0x10000,
        _ => null,
    };

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    /// <summary>
    /// The file's bytes in a buffer the caller owns (and disposes). Throws FileNotFoundException when there
    /// is no such file, IOException on a read error.
    /// </summary>
    /// <param name="direct">False: through the page cache into the same kind of buffer (see the storage.direct-reads setting).</param>
    public static ChunkBuffer Read(string path, bool direct = true) => ReadOpened(path, direct ? OpenDirect(path) : null);

    private static ChunkBuffer ReadOpened(string path, SafeFileHandle? direct)
    {
        using var handle = direct ?? File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var length = RandomAccess.GetLength(handle);
        if (length > int.MaxValue - ChunkBuffer.Alignment) throw new IOException($"{path}: {length} bytes is too large for a chunk");
        var size = (int)length;
        var padded = (size + ChunkBuffer.Alignment - 1) / ChunkBuffer.Alignment * ChunkBuffer.Alignment;
        var buffer = ChunkBuffer.Rent(Math.Max(padded, 1));
        try
        {
            if (direct is null) Fill(handle, buffer.Writable(size), size, path);
            // An unaligned (small) buffer cannot take O_DIRECT: read this one through the page cache.
            else if (!buffer.IsAligned) FillBuffered();
            else
            {
                try
                {
                    Fill(handle, buffer.Writable(padded), size, path);
                }
                catch (IOException)
                {
                    // A device that wants more than 4 KiB alignment refuses the read itself: read it buffered
                    // (a real read error fails again there, and is thrown from there).
                    FillBuffered();
                }
            }
            buffer.Length = size;
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }

        void FillBuffered()
        {
            using var buffered = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            Fill(buffered, buffer.Writable(size), size, path);
        }
    }

    /// <summary>Reads until <paramref name="size"/> bytes are in (an O_DIRECT read asks for whole blocks; the file's end cuts the last short).</summary>
    private static void Fill(SafeFileHandle handle, Span<byte> target, int size, string path)
    {
        var read = 0;
        while (read < size)
        {
            var n = RandomAccess.Read(handle, target[read..], read);
            if (n == 0) throw new IOException($"{path}: the file ended after {read} of {size} bytes");
            read += n;
        }
    }

    private static SafeFileHandle? OpenDirect(string path)
    {
        if (!OperatingSystem.IsLinux() || ReadDirectFlags is null) return null;
        var fd = Open(path, ReadDirectFlags.Value);
        if (fd >= 0) return new SafeFileHandle(fd, ownsHandle: true);
        var errno = Marshal.GetLastPInvokeError();
        if (errno == ENOENT) throw new FileNotFoundException($"no such file: {path}", path);
        if (errno == EINVAL) return null; // this file system refuses O_DIRECT
        throw new IOException($"{Marshal.GetPInvokeErrorMessage(errno)} : '{path}'");
    }

}
