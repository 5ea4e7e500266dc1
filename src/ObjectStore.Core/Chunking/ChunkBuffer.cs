using System.Buffers;

namespace ObjectStore.Core.Chunking;

/// <summary>
/// The bytes of one chunk in a pooled array (chunks are up to several MiB; pooling keeps the large
/// object heap from growing with every put). Whoever holds it last disposes it.
/// </summary>
public sealed class ChunkBuffer : IDisposable
{
    private byte[]? _array;

    private ChunkBuffer(byte[] array, int length)
    {
        _array = array;
        Length = length;
    }

    public static ChunkBuffer Rent(int capacity) => new(ArrayPool<byte>.Shared.Rent(capacity), 0);

    public int Length { get; internal set; }

    internal byte[] Array => _array ?? throw new ObjectDisposedException(nameof(ChunkBuffer));

    public ReadOnlySpan<byte> Span => Array.AsSpan(0, Length);

    public ReadOnlyMemory<byte> Memory => Array.AsMemory(0, Length);

    internal Span<byte> Free => Array.AsSpan(Length);

    public void Dispose()
    {
        var array = Interlocked.Exchange(ref _array, null);
        if (array is not null) ArrayPool<byte>.Shared.Return(array);
    }
}
