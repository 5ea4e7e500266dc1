using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace ObjectStore.Core.Storage;

/// <summary>What kind of thing a path names, as stat(2) says.</summary>
public enum LocalFileKind { Missing, Regular, Directory, Fifo, CharacterDevice, BlockDevice, Socket, Other }

/// <summary>A file's permission bits and modification time, kept with an object so that a get gives them back.</summary>
/// <param name="Mode">Permission bits (rwx for user, group, other, and the setuid, setgid and sticky bits).</param>
/// <param name="ModifiedUnixNs">Modification time, nanoseconds since the Unix epoch.</param>
public readonly record struct FileMetadata(int Mode, long ModifiedUnixNs)
{
    public const int PermissionBits = 0b111_111_111_111; // 07777

    public DateTimeOffset Modified => DateTimeOffset.UnixEpoch.AddTicks(ModifiedUnixNs / 100);
}

/// <summary>
/// stat(2) and utimensat(2) for what .NET does not say or set: a path's file type (a FIFO, a device and
/// a socket all look like files to File.Exists) and modification times to the nanosecond. statx is used
/// because its buffer has one layout on every Linux architecture.
/// </summary>
public static partial class LocalFile
{
    private const int AtCurrentDirectory = -100;
    private const uint StatxBasicStats = 0x7ff;
    private const long UtimeOmit = (1L << 30) - 2;

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Statx(int directory, string path, int flags, uint mask, ref byte buffer);

    [LibraryImport("libc", EntryPoint = "utimensat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Utimensat(int directory, string path, ref long times, int flags);

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    /// <summary>
    /// Ends a wait in open(2) by a reader of the FIFO at <paramref name="path"/> that no writer came for:
    /// opens it for writing without blocking (O_WRONLY | O_NONBLOCK, which fails at once when there is no
    /// reader) and closes it, so the reader sees the end of the stream.
    /// </summary>
    public static void WakeFifoReader(string path)
    {
        const int writeOnlyNonBlocking = 0x1 | 0x800;
        var fd = Open(path, writeOnlyNonBlocking);
        if (fd >= 0) Close(fd);
    }

    /// <summary>The kind of file at <paramref name="path"/> (symbolic links followed) and, for one that exists, its metadata.</summary>
    public static (LocalFileKind Kind, FileMetadata Metadata) Stat(string path)
    {
        Span<byte> buffer = stackalloc byte[256];
        if (Statx(AtCurrentDirectory, path, 0, StatxBasicStats, ref MemoryMarshal.GetReference(buffer)) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is 2 or 20) return (LocalFileKind.Missing, default); // ENOENT, ENOTDIR
            throw new IOException($"{path}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        int mode = BinaryPrimitives.ReadUInt16LittleEndian(buffer[28..]);
        var seconds = BinaryPrimitives.ReadInt64LittleEndian(buffer[112..]);
        var nanoseconds = BinaryPrimitives.ReadUInt32LittleEndian(buffer[120..]);
        var kind = (mode & 0xF000) switch
        {
            0x8000 => LocalFileKind.Regular,
            0x4000 => LocalFileKind.Directory,
            0x1000 => LocalFileKind.Fifo,
            0x2000 => LocalFileKind.CharacterDevice,
            0x6000 => LocalFileKind.BlockDevice,
            0xC000 => LocalFileKind.Socket,
            _ => LocalFileKind.Other,
        };
        return (kind, new FileMetadata(mode & FileMetadata.PermissionBits, seconds * 1_000_000_000 + nanoseconds));
    }

    /// <summary>
    /// Gives a file the permission bits (without setuid, setgid and sticky: a restored file should not
    /// gain privileges) and the modification time it had when it was stored.
    /// </summary>
    public static void Restore(string path, FileMetadata metadata)
    {
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, (UnixFileMode)(metadata.Mode & 0b111_111_111));
        Span<long> times = [0, UtimeOmit, Math.DivRem(metadata.ModifiedUnixNs, 1_000_000_000, out var ns), ns];
        if (ns < 0) (times[2], times[3]) = (times[2] - 1, ns + 1_000_000_000);
        if (Utimensat(AtCurrentDirectory, path, ref MemoryMarshal.GetReference(times), 0) != 0)
            throw new IOException($"{path}: cannot set its modification time: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
    }
}
