namespace ObjectStore.Core.Chunking;

/// <summary>Blocks of one fixed size; the last block of a stream may be shorter.</summary>
public sealed class FixedSizeChunker : IChunker
{
    public FixedSizeChunker(int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        MaxSize = size;
    }

    public int MaxSize { get; }

    public int FindCut(ReadOnlySpan<byte> chunk, ref CutScanState state) => chunk.Length >= MaxSize ? MaxSize : -1;
}
