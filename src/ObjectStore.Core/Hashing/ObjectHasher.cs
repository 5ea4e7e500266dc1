namespace ObjectStore.Core.Hashing;

/// <summary>
/// The two hashes of a put, fed chunk by chunk in order: each chunk's SHA-256 (its id) and the
/// SHA-256 of the whole object, both in one pass over the bytes with <see cref="ShaNiKernel"/>, each
/// 64-byte step of the chunk's hash interleaved with one of the object's. (Without the kernel the
/// chunker runs the runtime's SHA-256 twice, on several threads.) Not thread-safe: one caller at a
/// time, chunks in object order.
/// </summary>
public sealed class ObjectHasher
{
    private const int Block = ShaNiLanes.Block;

    private readonly ShaNiKernel _kernel;
    private readonly uint[] _objectState = ShaNiLanes.Initial.ToArray();
    private readonly uint[] _chunkState = new uint[8];
    private readonly uint[] _scratch = new uint[8];
    private readonly byte[] _objectPending = new byte[Block];
    private int _objectPendingLength;
    private long _objectLength;

    /// <param name="kernel"><see cref="ShaNiKernel.Instance"/>, where this machine has it.</param>
    public ObjectHasher(ShaNiKernel kernel) => _kernel = kernel;

    /// <summary>Adds <paramref name="chunk"/> to the object's hash and returns the chunk's own SHA-256.</summary>
    public ContentHash AppendChunk(ReadOnlySpan<byte> chunk)
    {
        _objectLength += chunk.Length;

        // The object's stream first completes the block a previous chunk left partly filled.
        var objectStart = 0;
        if (_objectPendingLength > 0)
        {
            objectStart = Math.Min(Block - _objectPendingLength, chunk.Length);
            chunk[..objectStart].CopyTo(_objectPending.AsSpan(_objectPendingLength));
            _objectPendingLength += objectStart;
            if (_objectPendingLength < Block) return HashWhole(chunk);
            CompressOne(_objectState, _objectPending, 1);
            _objectPendingLength = 0;
        }

        var chunkState = _chunkState.AsSpan();
        ShaNiLanes.Initial.CopyTo(chunkState);
        var objectBytes = chunk[objectStart..];
        var chunkBlocks = chunk.Length / Block;
        var objectBlocks = objectBytes.Length / Block;
        var paired = Math.Min(chunkBlocks, objectBlocks);
        _kernel.CompressPair(chunkState, _objectState, chunk, objectBytes, paired);
        // The two streams are at most one block apart.
        CompressOne(chunkState, chunk[(paired * Block)..], chunkBlocks - paired);
        CompressOne(_objectState, objectBytes[(paired * Block)..], objectBlocks - paired);

        var objectRest = objectBytes[(objectBlocks * Block)..];
        objectRest.CopyTo(_objectPending);
        _objectPendingLength = objectRest.Length;
        return Finish(chunkState, chunk[(chunkBlocks * Block)..], chunk.Length);
    }

    /// <summary>The object's SHA-256 over every chunk appended so far. The hasher is done after this.</summary>
    public ContentHash Complete() => Finish(_objectState, _objectPending.AsSpan(0, _objectPendingLength), _objectLength);

    /// <summary>A chunk too short to finish the object's pending block: its own hash alone.</summary>
    private ContentHash HashWhole(ReadOnlySpan<byte> chunk)
    {
        var state = _chunkState.AsSpan();
        ShaNiLanes.Initial.CopyTo(state);
        var blocks = chunk.Length / Block;
        CompressOne(state, chunk, blocks);
        return Finish(state, chunk[(blocks * Block)..], chunk.Length);
    }

    private void CompressOne(Span<uint> state, ReadOnlySpan<byte> data, int blocks) => ShaNiLanes.CompressOne(_kernel, state, _scratch, data, blocks);

    private ContentHash Finish(Span<uint> state, ReadOnlySpan<byte> tail, long totalLength) => ShaNiLanes.Finish(_kernel, state, _scratch, tail, totalLength);
}
