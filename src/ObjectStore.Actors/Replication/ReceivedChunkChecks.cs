using System.Collections.Concurrent;
using ObjectStore.Core.Chunking;
using ObjectStore.Core.Hashing;

namespace ObjectStore.Actors.Replication;

/// <summary>
/// Checks chunk bodies that came from another node (a fetch for a get or a repair, a push for a put) against
/// their ids on the thread pool, two in one SHA-NI pass when two are waiting (<see cref="PairHasher"/>: about a
/// third less hashing than one after the other). A check never waits for a partner: one that finds none is
/// hashed alone at once. Why: a gateway hashes every byte it serves, and checked one chunk at a time on its
/// fetchers' threads that was 36 % of its samples in a 1 GiB get (docs/BENCHMARKS.md); the bodies of a get
/// arrive many at a time, so most find a partner.
/// </summary>
internal static class ReceivedChunkChecks
{
    private sealed record Pending(ChunkBuffer Body, ContentHash Id, TaskCompletionSource<bool> Done);

    // One queue for the process: a partner may come from any fetch or push.
    private static readonly ConcurrentQueue<Pending> Waiting = new();

    /// <summary>
    /// Whether <paramref name="body"/> hashes to <paramref name="id"/>. The check holds a reference of its own to
    /// the bytes until it is done, so the caller may dispose its reference at any time (an actor that stops).
    /// Without <paramref name="kernel"/> (no SHA extensions, or sha-ni off) the runtime's SHA-256, on this thread.
    /// </summary>
    public static Task<bool> MatchesAsync(ChunkBuffer body, ContentHash id, ShaNiKernel? kernel)
    {
        if (kernel is null) return Task.FromResult(ContentHash.Compute(body.Span) == id);
        var pending = new Pending(body.Retain(), id, new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));
        Waiting.Enqueue(pending);
        // One work item per check: whichever runs first takes two, and a later one that finds the queue empty
        // has had its check done already.
        ThreadPool.UnsafeQueueUserWorkItem(CheckWaiting, kernel, preferLocal: false);
        return pending.Done.Task;
    }

    private static void CheckWaiting(ShaNiKernel kernel)
    {
        if (!Waiting.TryDequeue(out var first)) return;
        if (!Waiting.TryDequeue(out var second))
        {
            Finish(first, () => ContentHash.Compute(first.Body.Span));
            return;
        }
        (ContentHash A, ContentHash B)? hashes = null;
        Exception? failure = null;
        try
        {
            hashes = PairHasher.Hash(kernel, first.Body.Span, second.Body.Span);
        }
        catch (Exception e)
        {
            failure = e;
        }
        Finish(first, () => hashes?.A ?? throw failure!);
        Finish(second, () => hashes?.B ?? throw failure!);
    }

    private static void Finish(Pending pending, Func<ContentHash> hash)
    {
        try
        {
            pending.Done.SetResult(hash() == pending.Id);
        }
        catch (Exception e)
        {
            pending.Done.SetException(e);
        }
        finally
        {
            pending.Body.Dispose();
        }
    }
}
