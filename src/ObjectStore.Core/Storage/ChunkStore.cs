using ObjectStore.Core.Chunking;
using ObjectStore.Core.Hashing;

namespace ObjectStore.Core.Storage;

/// <summary>
/// Content-addressed chunk files under <c>DATA/chunks/ab/&lt;sha256&gt;</c>. A chunk becomes visible only
/// when its bytes are durable: write to <c>DATA/tmp</c>, fsync, rename into place, fsync the directory
/// (the way OpenStack Swift writes objects). Every read re-hashes the bytes; a mismatch moves the file
/// to <c>DATA/quarantine</c> and throws <see cref="ChunkCorruptException"/>.
/// </summary>
/// <remarks>
/// One level of 256 directories, all made at start: with 1 MiB chunks a million chunks (1 TiB) is
/// about 4,000 files a directory, which ext4 and xfs index well, and no write ever has to create and
/// sync a directory. (Two levels, 65,536 directories, made nearly every chunk write also create and
/// sync one or two directories.)
/// Writing is split in two (<see cref="WriteTemp"/>, then <see cref="MakeDurable"/> for a batch) so a
/// caller can make many chunks durable with one flush of the file system: group commit, instead of a
/// put waiting on the disk once per chunk.
/// </remarks>
/// <remarks>Thread-safe: writes of the same chunk from two threads both land the same bytes.</remarks>
public sealed partial class ChunkStore
{
    private readonly string _chunks, _temp, _quarantine;
    private readonly bool _fsync;
    private readonly IStorageFaults? _faults;
    private volatile bool _directIo;
    private readonly bool _directReads;
    private long _count;

    /// <summary>
    /// Smaller chunks (small files) are written through the page cache: their copy costs little, while an
    /// O_DIRECT write waits for the device on every call instead of once per group commit.
    /// </summary>
    public const int DirectWriteMinimum = 128 * 1024;

    /// <param name="directIo">Write chunk files with O_DIRECT where the file system allows it (see <see cref="DirectFileWriter"/>).</param>
    /// <param name="directReads">Read chunks into pooled buffers (<see cref="ReadPooled"/>) with O_DIRECT, else through the page cache.</param>
    public ChunkStore(string dataDirectory, bool fsync = true, IStorageFaults? faults = null, bool directIo = true, bool directReads = true)
    {
        _directIo = directIo && DirectFileWriter.Available;
        _directReads = directReads;
        Root = Path.GetFullPath(dataDirectory);
        _chunks = Path.Combine(Root, "chunks");
        _temp = Path.Combine(Root, "tmp");
        _quarantine = Path.Combine(Root, "quarantine");
        _fsync = fsync;
        _faults = faults;
        Directory.CreateDirectory(_temp);
        Directory.CreateDirectory(_quarantine);
        var fresh = !Directory.Exists(Path.Combine(_chunks, "ff"));
        for (var i = 0; i < 256; i++) Directory.CreateDirectory(Path.Combine(_chunks, i.ToString("x2")));
        if (fresh && _fsync)
        {
            DurableFiles.SyncDirectory(_chunks);
            DurableFiles.SyncDirectory(Root);
        }
    }

    public string Root { get; }

    /// <summary>Chunk files in the store: counted once at start (<see cref="StartCount"/>), then kept up to date by every commit, delete and quarantine.</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>Sets the count to what the start-up sweep found on disk.</summary>
    public void StartCount(long chunks) => Interlocked.Exchange(ref _count, chunks);

    /// <summary>Whether chunk files are written with O_DIRECT (false when off, or once the file system refused it).</summary>
    public bool DirectIo => _directIo;

    /// <summary>Temp files left by a crash are never visible as chunks; remove them at start-up.</summary>
    public int RemoveLeftoverTempFiles()
    {
        var removed = 0;
        foreach (var file in Directory.EnumerateFiles(_temp))
        {
            File.Delete(file);
            removed++;
        }
        return removed;
    }

    public string PathOf(ContentHash id)
    {
        var hex = id.ToString();
        return Path.Combine(_chunks, hex[..2], hex);
    }

    public bool Contains(ContentHash id) => File.Exists(PathOf(id));

    /// <summary>
    /// Stores a chunk durably. The caller vouches that <paramref name="data"/> hashes to <paramref name="id"/>
    /// (it computed the hash, or verified bytes from the network). Returns false when the chunk was already
    /// present and nothing was written (dedup).
    /// </summary>
    public bool Put(ContentHash id, ReadOnlySpan<byte> data)
    {
        var pending = WriteTemp(id, data);
        if (pending is null) return false;
        MakeDurable([pending]);
        return true;
    }

    /// <summary>A chunk written to a temp file, not yet durable and not yet visible.</summary>
    public sealed record PendingChunk(ContentHash Id, string TempPath, string FinalPath);

    /// <summary>
    /// Writes a chunk to a temp file (no fsync yet). Returns null, writing nothing, when the chunk is
    /// already present. <see cref="MakeDurable"/> then makes a whole batch of these durable and visible.
    /// </summary>
    public PendingChunk? WriteTemp(ContentHash id, ReadOnlySpan<byte> data) => WriteTemp(id, data, default);

    /// <summary>As <see cref="WriteTemp(ContentHash, ReadOnlySpan{byte})"/>, from a chunk buffer that O_DIRECT can write without a copy.</summary>
    public PendingChunk? WriteTemp(ContentHash id, Chunking.ChunkBuffer chunk) =>
        WriteTemp(id, chunk.Span, _directIo && chunk.Length >= DirectWriteMinimum ? chunk.AlignedPadded() : default);

    private PendingChunk? WriteTemp(ContentHash id, ReadOnlySpan<byte> data, Span<byte> alignedPadded)
    {
        var final = PathOf(id);
        if (File.Exists(final)) return null;
        _faults?.BeforeWrite(id);
        var temp = Path.Combine(_temp, $"{id}.{Guid.NewGuid():N}");
        try
        {
            if (_directIo && data.Length >= DirectWriteMinimum)
            {
                if (DirectFileWriter.TryWriteNew(temp, data, alignedPadded)) return new PendingChunk(id, temp, final);
                _directIo = false; // refused by this file system: buffered writes from now on
            }
            DurableFiles.WriteNew(temp, data);
        }
        catch
        {
            DurableFiles.TryDelete(temp);
            throw;
        }
        return new PendingChunk(id, temp, final);
    }

    /// <summary>
    /// Group commit: flush the batch's bytes (one syncfs for the whole batch where Linux has it, else
    /// one fsync per file), rename each temp file into place, then flush again so the renames are
    /// durable. A chunk is visible only after its bytes are durable. On failure the batch's temp files
    /// that were not renamed are deleted and the exception propagates.
    /// </summary>
    /// <returns>How many of the batch's chunks were new on disk (a chunk written by two uploads at once counts once).</returns>
    public int MakeDurable(IReadOnlyList<PendingChunk> batch)
    {
        var renamed = 0;
        var added = 0;
        try
        {
            if (_fsync && !DurableFiles.TrySyncFileSystem(Root))
                foreach (var chunk in batch) DurableFiles.SyncFile(chunk.TempPath);
            foreach (var chunk in batch)
            {
                _faults?.BeforeRename(chunk.Id);
                var isNew = MoveIntoPlace(chunk.TempPath, chunk.FinalPath);
                renamed++;
                if (!isNew) continue;
                added++;
                Interlocked.Increment(ref _count);
            }
            if (_fsync && !DurableFiles.TrySyncFileSystem(Root))
                foreach (var directory in batch.Select(c => Path.GetDirectoryName(c.FinalPath)!).Distinct())
                    DurableFiles.SyncDirectory(directory);
            return added;
        }
        catch
        {
            foreach (var chunk in batch.Skip(renamed)) DurableFiles.TryDelete(chunk.TempPath);
            throw;
        }
    }

    /// <summary>
    /// Renames a file into its fan-out directory, making the directory again if it is gone (an operator or a
    /// failing disk removed part of chunks/): without that, every chunk whose id falls there would be refused
    /// for good, and the node could never be repaired. The new directory reaches the disk with the batch's
    /// flush of the file system (or, where there is none, its own). Returns whether the chunk was new there.
    /// </summary>
    private static bool MoveIntoPlace(string from, string to)
    {
        try
        {
            return Move(from, to);
        }
        catch (DirectoryNotFoundException) when (File.Exists(from))
        {
            var directory = Path.GetDirectoryName(to)!;
            Directory.CreateDirectory(directory);
            DurableFiles.SyncDirectory(Path.GetDirectoryName(directory)!);
            return Move(from, to);
        }
    }

    /// <summary>
    /// A chunk file already in place (another upload wrote the same chunk meanwhile) holds the same bytes, so it
    /// stays and the temp file goes.
    /// </summary>
    private static bool Move(string from, string to)
    {
        switch (DurableFiles.TryRenameNoReplace(from, to))
        {
            case DurableFiles.RenameOutcome.Renamed:
                return true;
            case DurableFiles.RenameOutcome.TargetExists:
                DurableFiles.TryDelete(from);
                return false;
            default:
                var isNew = !File.Exists(to);
                File.Move(from, to, overwrite: true);
                return isNew;
        }
    }

    /// <summary>Reads and verifies a chunk. Throws <see cref="ChunkMissingException"/> or <see cref="ChunkCorruptException"/>.</summary>
    /// <param name="verify">False: the bytes are not hashed here (a holder sending them to a node that checks them itself, and that asks for a checked read on a mismatch).</param>
    public byte[] Read(ContentHash id, bool verify = true)
    {
        var data = ReadFile(id, File.ReadAllBytes);
        if (verify) CheckAgainstId(id, data);
        return data;
    }

    /// <summary>
    /// As <see cref="Read"/>, into a pooled buffer the caller owns and disposes, read with O_DIRECT where it
    /// can be unless direct reads are off (<see cref="DirectFileReader"/>): for a get, which passes the bytes
    /// on and lets go of them.
    /// </summary>
    public ChunkBuffer ReadPooled(ContentHash id, bool verify = true)
    {
        var data = ReadFile(id, path => DirectFileReader.Read(path, _directReads));
        try
        {
            if (verify) CheckAgainstId(id, data.Span);
            return data;
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    private T ReadFile<T>(ContentHash id, Func<string, T> read)
    {
        _faults?.BeforeRead(id);
        try
        {
            return read(PathOf(id));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ChunkMissingException(id);
        }
    }

    /// <summary>Throws <see cref="ChunkCorruptException"/>, the file moved to quarantine, when the bytes are not the chunk's.</summary>
    private void CheckAgainstId(ContentHash id, ReadOnlySpan<byte> data) => CheckAgainstId(id, ContentHash.Compute(data));

    /// <summary>As above, with the bytes' hash already computed (<see cref="ReadPooledPair"/>).</summary>
    private void CheckAgainstId(ContentHash id, ContentHash actual)
    {
        if (actual != id) throw new ChunkCorruptException(id, actual, Quarantine(id));
    }

    /// <summary>Moves a bad chunk file out of the store so that it is never served again; the file stays in quarantine/ for inspection.</summary>
    public string Quarantine(ContentHash id)
    {
        var target = Path.Combine(_quarantine, $"{id}.{DateTime.UtcNow:yyyyMMddTHHmmssfff}");
        Directory.CreateDirectory(_quarantine);
        File.Move(PathOf(id), target, overwrite: true);
        Interlocked.Decrement(ref _count);
        return target;
    }

    public bool Delete(ContentHash id)
    {
        var path = PathOf(id);
        if (!File.Exists(path)) return false;
        File.Delete(path);
        Interlocked.Decrement(ref _count);
        return true;
    }

    /// <summary>Chunk files moved to quarantine/ (kept for inspection until an operator removes them).</summary>
    public int QuarantinedCount() => Directory.Exists(_quarantine) ? Directory.EnumerateFiles(_quarantine).Count() : 0;

    public IEnumerable<ContentHash> EnumerateChunks()
    {
        foreach (var file in Directory.EnumerateFiles(_chunks, "*", SearchOption.AllDirectories))
            if (ContentHash.TryParse(Path.GetFileName(file), out var id))
                yield return id;
    }

}
