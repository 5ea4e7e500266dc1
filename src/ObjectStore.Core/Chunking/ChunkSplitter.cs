namespace ObjectStore.Core.Chunking;

/// <summary>
/// Splits a byte stream that arrives in pieces (network frames, file reads) into chunks. It holds
/// only the chunk being built (at most <see cref="IChunker.MaxSize"/> bytes); input is copied
/// straight into that chunk's buffer. Input is taken in steps of <see cref="ScanStep"/> with a cut
/// search after each, so the bytes past a cut, which move to the next chunk's buffer, are at most one
/// step; taking a large read whole would move half of it, on average, for every cut.
/// </summary>
public sealed class ChunkSplitter : IDisposable
{
    private const int ScanStep = 128 * 1024;

    private readonly IChunker _chunker;
    private ChunkBuffer? _current;
    private CutScanState _scan = CutScanState.Start;

    public ChunkSplitter(IChunker chunker) => _chunker = chunker;

    public long BytesIn { get; private set; }

    /// <summary>Consumes all of <paramref name="input"/>; every chunk it completes goes to <paramref name="emit"/>, in order.</summary>
    public void Write(ReadOnlySpan<byte> input, Action<ChunkBuffer> emit)
    {
        while (!input.IsEmpty)
        {
            var space = Reserve(Math.Min(input.Length, ScanStep));
            input[..space.Length].CopyTo(space.Span);
            input = input[space.Length..];
            Commit(space.Length, emit);
        }
    }

    /// <summary>
    /// Room for up to <paramref name="max"/> more bytes of input in the chunk being built, for a caller
    /// that reads its input straight into it (no copy); then <see cref="Commit"/> how many it put there.
    /// Nothing else may be called on the splitter in between.
    /// </summary>
    public Memory<byte> Reserve(int max)
    {
        _current ??= ChunkBuffer.Rent(_chunker.MaxSize);
        return _current.FreeMemory[..Math.Min(max, _chunker.MaxSize - _current.Length)];
    }

    /// <summary>Takes <paramref name="count"/> bytes placed in the space <see cref="Reserve"/> gave; completed chunks go to <paramref name="emit"/>.</summary>
    public void Commit(int count, Action<ChunkBuffer> emit)
    {
        if (_current is null || count < 0 || count > _chunker.MaxSize - _current.Length)
            throw new InvalidOperationException("commit more bytes than were reserved");
        BytesIn += count;
        _current.Length += count;
        var cut = _chunker.FindCut(_current.Span, ref _scan);
        while (cut > 0)
        {
            var full = _current;
            var rest = full.Span[cut..];
            _current = ChunkBuffer.Rent(_chunker.MaxSize);
            rest.CopyTo(_current.Free);
            _current.Length = rest.Length;
            full.Length = cut;
            _scan = CutScanState.Start;
            emit(full);
            cut = _current.Length > 0 ? _chunker.FindCut(_current.Span, ref _scan) : -1;
        }
    }

    /// <summary>Ends the stream: the bytes still held become the last chunk (none for an empty remainder).</summary>
    public ChunkBuffer? Complete()
    {
        var last = _current;
        _current = null;
        _scan = CutScanState.Start;
        if (last is { Length: > 0 }) return last;
        last?.Dispose();
        return null;
    }

    /// <summary>
    /// For a caller whose read into <see cref="Reserve"/>d space may still land: forgets the chunk being
    /// built without returning its buffer to the pool, where another upload could be handed it and
    /// have the late bytes written into its chunk. The garbage collector takes it.
    /// </summary>
    public void Abandon() => _current = null;

    public void Dispose()
    {
        _current?.Dispose();
        _current = null;
    }
}
