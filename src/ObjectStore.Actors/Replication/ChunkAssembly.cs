using ObjectStore.Core.Chunking;
using ObjectStore.Core.Hashing;

namespace ObjectStore.Actors.Replication;

/// <summary>
/// One chunk arriving in parts from another node: parts must come in order and fit the announced
/// length; anything else is a reason to drop the transfer, never a reason to store bytes. Whoever takes
/// the whole checks it against the chunk's id, as for a body that came on a data connection.
/// </summary>
internal sealed class ChunkAssembly(ContentHash id, int length) : IDisposable
{
    private ChunkBuffer? _buffer = ChunkBuffer.Rent(Math.Max(length, 1));

    public ContentHash Id { get; } = id;
    public int Length { get; } = length;
    public int Received { get; private set; }
    public bool Complete => Received == Length;

    /// <summary>Adds a part; returns why it was refused, or null.</summary>
    public string? Add(int offset, ReadOnlySpan<byte> data)
    {
        if (_buffer is null) return "transfer already ended";
        if (offset != Received) return $"part at offset {offset} arrived where {Received} was due";
        if (data.Length == 0 || data.Length > Length - Received) return $"part of {data.Length} bytes at {offset} overruns the chunk's {Length} bytes";
        _buffer.Append(data);
        Received += data.Length;
        return null;
    }

    /// <summary>The whole chunk, now owned by the caller, who checks it against <see cref="Id"/>.</summary>
    public ChunkBuffer TakeUnverified()
    {
        var buffer = _buffer ?? throw new InvalidOperationException("chunk already taken");
        _buffer = null;
        return buffer;
    }

    public void Dispose()
    {
        _buffer?.Dispose();
        _buffer = null;
    }
}
