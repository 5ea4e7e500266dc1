namespace ObjectStore.Core.Chunking;

/// <summary>
/// Where a chunker stopped scanning a chunk that has no cut point yet, so that scanning can resume
/// when more bytes arrive instead of starting over.
/// </summary>
public struct CutScanState
{
    public int Position;
    public ulong Hash;
    public static CutScanState Start => default;
}

/// <summary>
/// Finds chunk boundaries. A chunker looks only at the bytes of the chunk being built, from its start.
/// </summary>
public interface IChunker
{
    /// <summary>The largest chunk this chunker emits; a chunk buffer of this size always suffices.</summary>
    int MaxSize { get; }

    /// <summary>
    /// Scans <paramref name="chunk"/> (all bytes of the current chunk received so far, from its first byte)
    /// and returns the length of the chunk if a boundary lies within it, or -1 if more bytes are needed.
    /// Never returns -1 when <paramref name="chunk"/> holds <see cref="MaxSize"/> bytes or more.
    /// <paramref name="state"/> carries the scan position between calls for the same chunk; reset it for a new chunk.
    /// </summary>
    int FindCut(ReadOnlySpan<byte> chunk, ref CutScanState state);
}
