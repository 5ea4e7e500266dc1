using System.Buffers;

namespace ObjectStore.Core.Chunking;

/// <summary>
/// The bytes of one chunk in a pooled array (chunks are up to several MiB; pooling keeps the large
/// object heap from growing with every put). Reference counted, because one chunk goes to several
/// holders at once (the local disk and each replica's transfer): every holder takes a reference with
/// <see cref="Retain"/> and disposes it once; the array goes back to the pool with the last one.
/// </summary>
public sealed class ChunkBuffer : IDisposable
{
    private byte[]? _array;
    private int _references = 1;

    private ChunkBuffer(byte[] array, int length)
    {
        _array = array;
        Length = length;
    }

    public static ChunkBuffer Rent(int capacity) => new(ArrayPool<byte>.Shared.Rent(capacity), 0);

    /// <summary>Another holder of the same bytes; it disposes its reference when done.</summary>
    public ChunkBuffer Retain()
    {
        if (Interlocked.Increment(ref _references) <= 1) throw new ObjectDisposedException(nameof(ChunkBuffer));
        return this;
    }

    /// <summary>Appends bytes (a chunk arriving in parts); fails when they do not fit the rented capacity.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        data.CopyTo(Free);
        Length += data.Length;
    }

    public int Capacity => Array.Length;

    public int Length { get; internal set; }

    internal byte[] Array => _array ?? throw new ObjectDisposedException(nameof(ChunkBuffer));

    public ReadOnlySpan<byte> Span => Array.AsSpan(0, Length);

    public ReadOnlyMemory<byte> Memory => Array.AsMemory(0, Length);

    internal Span<byte> Free => Array.AsSpan(Length);

    public void Dispose()
    {
        if (Interlocked.Decrement(ref _references) > 0) return;
        var array = Interlocked.Exchange(ref _array, null);
        if (array is not null) ArrayPool<byte>.Shared.Return(array);
    }
}
