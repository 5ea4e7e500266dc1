using System.Security.Cryptography;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Storage;

namespace ObjectStore.Actors.Client;

/// <summary>
/// Where a get writes: a temp file beside the target, hashed as it is written, renamed onto the target
/// only when its size and SHA-256 are the object's (or, written by a node on this machine, when the node
/// checked every chunk against its id). A failed get leaves no half file, and a file that does not match
/// the object is never presented as the object. One thread at a time uses it.
/// </summary>
internal sealed class DownloadTarget : IDisposable
{
    private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private FileStream? _file;
    private bool _renamed;

    /// <summary>Creates the temp file; throws IOException or UnauthorizedAccessException when the target's directory does not take it.</summary>
    public DownloadTarget(string target)
    {
        Path = System.IO.Path.GetFullPath(target);
        TempPath = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path)!, $".{System.IO.Path.GetFileName(Path)}.{Guid.NewGuid():N}.part");
        // Unbuffered: bytes arrive in frames (64 KiB) or data-port reads (1 MiB), each one write call as it is.
        // A 1 MiB buffer per get was a large-object-heap allocation per file: get -r of 2,000 small files
        // spent a fifth of the shell's CPU in background GC because of it.
        // FileShare.Read, not None: with None .NET holds a flock on the file until the handle is released, and the
        // hand-over's reference to the handle can outlive the get by a moment — a program that opened the target at
        // once then failed with "being used by another process" (seen in CI; DownloadTargetTests).
        _file = new FileStream(TempPath, FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 0);
    }

    public string Path { get; }
    public string TempPath { get; }
    public long Written { get; private set; }

    /// <summary>Appends bytes; an IOException (a full disk) is the caller's to report as this machine's problem, not the node's.</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        (_file ?? throw new ObjectDisposedException(nameof(DownloadTarget))).Write(data);
        _sha.AppendData(data);
        Written += data.Length;
    }

    /// <summary>The temp file's handle, for a node on this machine to write the object into (nothing is written here then).</summary>
    public Microsoft.Win32.SafeHandles.SafeFileHandle HandleForNode => (_file ?? throw new ObjectDisposedException(nameof(DownloadTarget))).SafeFileHandle;

    /// <summary>The temp file's length now (a node writing into it makes it grow): the progress of a handed-over get.</summary>
    public long LengthOnDisk => new FileInfo(TempPath).Length;

    /// <summary>Checks size and hash against the object's and renames the temp file onto the target; else throws, leaving nothing.</summary>
    public void Complete(ObjectInfo info, string name) =>
        Complete(info, name, Written, ContentHash.FromBytes(_sha.GetHashAndReset()));

    /// <summary>
    /// The node wrote the file (a handed-over get): its size on disk must be the object's; <paramref name="written"/>
    /// is the hash the node computed of what it wrote (a node of an earlier version), null when the node
    /// checked every chunk against its id instead.
    /// </summary>
    public void CompleteWrittenByNode(ObjectInfo info, string name, ContentHash? written) =>
        Complete(info, name, RandomAccess.GetLength(HandleForNode), written);

    private void Complete(ObjectInfo info, string name, long size, ContentHash? actual)
    {
        if (size != info.Size)
            throw new StoreException(StoreErrorCode.Corrupt, $"get of {name}: received {size} bytes, the object has {info.Size}");
        if (actual is not null && actual != info.Sha256)
            throw new StoreException(StoreErrorCode.Corrupt, $"get of {name}: content hashes to {actual.Value.ToShortString()}, the object's hash is {info.Sha256.ToShortString()}");
        try
        {
            _file!.Dispose();
            _file = null;
            File.Move(TempPath, Path, overwrite: true);
            _renamed = true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreException(StoreErrorCode.InvalidRequest, $"cannot write {Path}: {e.Message}");
        }
    }

    /// <summary>
    /// Closes and, unless it became the target, deletes the temp file. Closing flushes the file's buffer,
    /// which fails on a full disk; the file is deleted anyway.
    /// </summary>
    public void Dispose()
    {
        try { _file?.Dispose(); }
        catch (IOException) { }
        _file = null;
        _sha.Dispose();
        if (!_renamed) DurableFiles.TryDelete(TempPath);
    }
}
