using ObjectStore.Actors.Threading;
using ObjectStore.Core.Chunking;
using ObjectStore.Core.Hashing;

namespace ObjectStore.Actors.Chunking;

/// <summary>
/// Hashes one put's chunks, in order, on a thread of its own: each chunk's id and the object's hash in
/// one pass (<see cref="ObjectHasher"/>), reported through <c>hashed</c>.
/// </summary>
/// <remarks>
/// Why a thread rather than a chain of pool tasks: the hash chain is the one sequential stage of a
/// put, and as pool tasks each step waited for a pool thread behind the chunker, the storage's I/O
/// tasks and the actors, for about as long as it hashed (docs/BENCHMARKS.md). A thread that sleeps on
/// its queue (without spinning: <see cref="SleepingQueue{T}"/>) is woken as soon as a chunk arrives.
/// </remarks>
internal sealed class ChunkHashingThread : IChunkHashing
{
    private readonly SleepingQueue<(int Index, ChunkBuffer Chunk)> _queue = new();
    private readonly ObjectHasher _hasher;
    private readonly Action<int, ContentHash, ChunkBuffer> _hashed;
    private readonly Action<Exception> _failed;

    public ChunkHashingThread(ObjectHasher hasher, Action<int, ContentHash, ChunkBuffer> hashed, Action<Exception> failed)
    {
        (_hasher, _hashed, _failed) = (hasher, hashed, failed);
        new Thread(Run) { IsBackground = true, Name = "chunk hashing" }.Start();
    }

    /// <summary>The next chunk of the object; the thread owns the reference until it reports it (released at once after Dispose).</summary>
    public void Add(int index, ChunkBuffer chunk)
    {
        if (!_queue.TryAdd((index, chunk))) chunk.Dispose();
    }

    /// <summary>The object's hash. Only once every added chunk has been reported.</summary>
    public ContentHash Complete() => _hasher.Complete();

    /// <summary>Stops the thread; chunks not hashed yet are released, not reported.</summary>
    public void Dispose() => _queue.CompleteAdding();

    private void Run()
    {
        var failed = false;
        while (_queue.TryTake(out var item))
        {
            var (index, chunk) = item;
            if (failed || _queue.IsAddingCompleted)
            {
                chunk.Dispose();
                continue;
            }
            try
            {
                _hashed(index, _hasher.AppendChunk(chunk.Span), chunk);
            }
            catch (Exception e)
            {
                failed = true;
                chunk.Dispose();
                _failed(e);
            }
        }
    }
}
