using ObjectStore.Core.Chunking;
using ObjectStore.Core.Hashing;

namespace ObjectStore.Core.Storage;

/// <summary>One chunk read for <see cref="ChunkStore.ReadPooledPair"/>: its bytes, or what reading it alone would have thrown.</summary>
public readonly record struct PooledRead(ChunkBuffer? Buffer, Exception? Error);

public sealed partial class ChunkStore
{
    /// <summary>
    /// Two chunks as <see cref="ReadPooled"/> reads them, checked against their ids in one SHA-NI pass
    /// (<see cref="PairHasher"/>: about a third less hashing than one after the other). A corrupt one is
    /// quarantined and comes back as its <see cref="ChunkCorruptException"/>, a missing one as
    /// <see cref="ChunkMissingException"/>; the other is unaffected.
    /// </summary>
    public (PooledRead A, PooledRead B) ReadPooledPair(ContentHash a, ContentHash b, ShaNiKernel kernel)
    {
        var first = ReadUnchecked(a);
        var second = ReadUnchecked(b);
        if (first.Buffer is { } x && second.Buffer is { } y)
        {
            var (hashA, hashB) = PairHasher.Hash(kernel, x.Span, y.Span);
            return (Checked(a, first, hashA), Checked(b, second, hashB));
        }
        return (Checked(a, first, null), Checked(b, second, null));
    }

    private PooledRead ReadUnchecked(ContentHash id)
    {
        try
        {
            return new PooledRead(ReadPooled(id, verify: false), null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new PooledRead(null, e);
        }
    }

    /// <param name="actual">The bytes' hash, when the pair pass has it.</param>
    private PooledRead Checked(ContentHash id, PooledRead read, ContentHash? actual)
    {
        if (read.Buffer is not { } buffer) return read;
        try
        {
            if (actual is { } hash) CheckAgainstId(id, hash);
            else CheckAgainstId(id, buffer.Span);
            return read;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            buffer.Dispose();
            return new PooledRead(null, e);
        }
    }
}
