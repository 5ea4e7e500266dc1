namespace ObjectStore.Core.Chunking;

public enum ChunkingAlgorithm
{
    /// <summary>Content-defined chunking (FastCDC 2020): an insertion moves only nearby boundaries.</summary>
    FastCdc,
    /// <summary>Fixed-size blocks, as the seed article and Garage do: cheap, but an insertion shifts every later block.</summary>
    Fixed,
}

/// <summary>
/// How files are split. Bound from the <c>objectstore.chunking</c> section of akka.hocon, which holds
/// the defaults; nothing here restates them.
/// </summary>
public sealed record ChunkerOptions
{
    public const int KiB = 1024;
    public const int MiB = 1024 * KiB;

    public required ChunkingAlgorithm Algorithm { get; init; }
    public required int MinSize { get; init; }
    public required int AverageSize { get; init; }
    public required int MaxSize { get; init; }
    /// <summary>Block size of the fixed-size chunker.</summary>
    public required int FixedSize { get; init; }
    /// <summary>Hash chunk ids and the object in one pass with the SHA-NI kernel where the CPU has it.</summary>
    public required bool ShaNi { get; init; }

    /// <summary>The SHA-NI kernel when <see cref="ShaNi"/> is on and this CPU has it; null: the runtime's SHA-256.</summary>
    public Hashing.ShaNiKernel? Kernel => ShaNi ? Hashing.ShaNiKernel.Instance : null;

    /// <summary>The largest chunk this configuration can produce.</summary>
    public int LargestChunk => Algorithm == ChunkingAlgorithm.Fixed ? FixedSize : MaxSize;

    /// <summary>Objects up to this size are always a single chunk: FastCDC never cuts before the minimum size.</summary>
    public int SingleChunkLimit => Algorithm == ChunkingAlgorithm.Fixed ? FixedSize : MinSize;

    public void Validate()
    {
        if (Algorithm == ChunkingAlgorithm.Fixed)
        {
            if (FixedSize is < 64 or > 64 * MiB)
                throw new ArgumentException($"chunking.fixed-size must be between 64 bytes and 64 MiB, got {FixedSize}");
            return;
        }
        if (MinSize < 64)
            throw new ArgumentException($"chunking.min-size must be at least 64 bytes, got {MinSize}");
        if (!(MinSize < AverageSize && AverageSize < MaxSize))
            throw new ArgumentException($"chunking sizes must satisfy min < avg < max, got {MinSize} / {AverageSize} / {MaxSize}");
        if (MaxSize > 64 * MiB)
            throw new ArgumentException($"chunking.max-size must be at most 64 MiB, got {MaxSize}");
        if (AverageSize < FastCdcChunker.SmallestAverage || AverageSize > FastCdcChunker.LargestAverage)
            throw new ArgumentException(
                $"chunking.avg-size must be between {FastCdcChunker.SmallestAverage} and {FastCdcChunker.LargestAverage} bytes, got {AverageSize}");
    }

    public IChunker CreateChunker()
    {
        Validate();
        return Algorithm == ChunkingAlgorithm.Fixed
            ? new FixedSizeChunker(FixedSize)
            : new FastCdcChunker(MinSize, AverageSize, MaxSize);
    }
}
