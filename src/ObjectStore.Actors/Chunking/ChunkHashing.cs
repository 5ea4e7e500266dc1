using System.Security.Cryptography;
using ObjectStore.Core.Chunking;
using ObjectStore.Core.Hashing;

namespace ObjectStore.Actors.Chunking;

/// <summary>
/// Hashes one put's chunks as the chunker cuts them: each chunk's id, and the whole object's SHA-256 over
/// the chunks in order. Reports each chunk (with the reference it was given) through the callback passed
/// at creation, on some other thread.
/// </summary>
internal interface IChunkHashing : IDisposable
{
    /// <summary>The next chunk of the object; the hashing owns the reference until it reports it.</summary>
    void Add(int index, ChunkBuffer chunk);

    /// <summary>The object's hash; only once every added chunk has been reported.</summary>
    ContentHash Complete();
}

internal static class ChunkHashing
{
    /// <summary>
    /// Both hashes in one pass on a thread of the put's own where the SHA-NI kernel runs (twice the hashing
    /// per core); else the runtime's SHA-256 twice, each chunk's id on a pool thread and the object's hash
    /// on a chain of tasks in order.
    /// </summary>
    public static IChunkHashing Create(bool shaNi, Action<int, ContentHash, ChunkBuffer> hashed, Action<Exception> failed) =>
        shaNi && ShaNiKernel.Instance is { } kernel
            ? new ChunkHashingThread(new ObjectHasher(kernel), hashed, failed)
            : new TwoPassChunkHashing(hashed, failed);
}

/// <summary>The runtime's SHA-256, twice: chunk ids in parallel, the object's hash strictly in chunk order.</summary>
internal sealed class TwoPassChunkHashing(Action<int, ContentHash, ChunkBuffer> hashed, Action<Exception> failed) : IChunkHashing
{
    private readonly IncrementalHash _object = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private Task _tail = Task.CompletedTask;

    public void Add(int index, ChunkBuffer chunk)
    {
        var objectHash = _object;
        // Each step of the object hash waits for the one before.
        _tail = _tail.ContinueWith(_ => objectHash.AppendData(chunk.Span), TaskScheduler.Default);
        var chunkHash = Task.Run(() => ContentHash.Compute(chunk.Span));
        Task.WhenAll(chunkHash, _tail).ContinueWith(t =>
        {
            if (t.IsFaulted)
            {
                chunk.Dispose();
                failed(t.Exception!.GetBaseException());
            }
            else hashed(index, chunkHash.Result, chunk);
        }, TaskScheduler.Default);
    }

    public ContentHash Complete() => ContentHash.FromBytes(_object.GetHashAndReset());

    /// <summary>The tasks may still be reading chunks: the hash is disposed after them.</summary>
    public void Dispose()
    {
        var objectHash = _object;
        _tail.ContinueWith(_ => objectHash.Dispose(), TaskScheduler.Default);
    }
}
