using System.Buffers;

namespace ObjectStore.Core.Chunking;

/// <summary>
/// The bytes of one chunk in a pooled array (chunks are up to several MiB; pooling keeps the large
/// object heap from growing with every put). Reference counted, because one chunk goes to several
/// holders at once (the local disk and each replica's transfer): every holder takes a reference with
/// <see cref="Retain"/> and disposes it once; the array goes back to the pool with the last one. The
/// count is the one record of who still needs the bytes: whoever must know when they are free (the
/// chunker, to take more input) asks to be told with <see cref="WhenReleased"/>.
/// </summary>
/// <remarks>
/// Buffers of <see cref="AlignedMinimum"/> and more start on a 4 KiB boundary of a pinned array
/// (<see cref="PinnedBufferPool"/>), so a chunk file can be written with O_DIRECT straight from the
/// buffer (<see cref="AlignedPadded"/>) instead of through a staging copy, which was a sixth of the
/// node's copying during a large put. Smaller ones are written through the page cache and come from
/// the shared array pool.
/// </remarks>
public sealed class ChunkBuffer : IDisposable
{
    public const int Alignment = 4096;
    /// <summary>From this capacity on, buffers are aligned for O_DIRECT (the store writes smaller chunks buffered).</summary>
    public const int AlignedMinimum = 128 * 1024;

    private byte[]? _array;
    private readonly int _offset;
    private readonly bool _pinned;
    private int _references = 1;
    private volatile bool _abandoned;
    private Action? _released;

    private ChunkBuffer(byte[] array, int offset, int capacity, bool pinned)
    {
        _array = array;
        _offset = offset;
        Capacity = capacity;
        _pinned = pinned;
    }

    public static ChunkBuffer Rent(int capacity)
    {
        if (capacity < AlignedMinimum)
        {
            var array = ArrayPool<byte>.Shared.Rent(capacity);
            return new ChunkBuffer(array, 0, array.Length, pinned: false);
        }
        var (pinned, offset, size) = PinnedBufferPool.Rent(capacity);
        return new ChunkBuffer(pinned, offset, size, pinned: true);
    }

    /// <summary>A buffer of its own holding a copy of <paramref name="data"/>.</summary>
    public static ChunkBuffer CopyOf(ReadOnlySpan<byte> data)
    {
        var buffer = Rent(data.Length);
        buffer.Append(data);
        return buffer;
    }

    /// <summary>Another holder of the same bytes; it disposes its reference when done.</summary>
    public ChunkBuffer Retain()
    {
        if (Interlocked.Increment(ref _references) <= 1) throw new ObjectDisposedException(nameof(ChunkBuffer));
        return this;
    }

    /// <summary>
    /// Runs <paramref name="released"/> (on whichever thread drops the last reference) when the last
    /// holder is done with the bytes. Set once, by the holder that creates the buffer, before sharing it.
    /// </summary>
    public void WhenReleased(Action released) => _released = released;

    /// <summary>
    /// Drops this holder's reference, but keeps the array from ever going back to the pool: for a holder
    /// that may have let the bytes escape into messages still queued for the network (a transfer abandoned
    /// mid-way), where a reused array would send another chunk's bytes. The garbage collector takes it.
    /// </summary>
    public void Abandon()
    {
        _abandoned = true;
        Dispose();
    }

    /// <summary>Appends bytes (a chunk arriving in parts); fails when they do not fit the rented capacity.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        data.CopyTo(Free);
        Length += data.Length;
    }

    /// <summary>
    /// Reads exactly <paramref name="count"/> bytes from <paramref name="stream"/> onto the end (a chunk arriving
    /// on a data connection). Throws EndOfStreamException when the stream ends first, and whatever the stream
    /// throws; the bytes read so far then stay appended, so a caller that fails drops the buffer.
    /// </summary>
    public async ValueTask FillFromAsync(Stream stream, int count, CancellationToken cancel)
    {
        if (count > Capacity - Length) throw new ArgumentOutOfRangeException(nameof(count), $"{count} bytes do not fit the {Capacity - Length} free");
        var target = Array.AsMemory(_offset + Length, count);
        while (!target.IsEmpty)
        {
            var read = await stream.ReadAsync(target, cancel);
            if (read == 0) throw new EndOfStreamException($"the connection ended {target.Length} bytes short");
            Length += read;
            target = target[read..];
        }
    }

    public int Capacity { get; }

    public int Length { get; internal set; }

    private byte[] Array => _array ?? throw new ObjectDisposedException(nameof(ChunkBuffer));

    public ReadOnlySpan<byte> Span => Array.AsSpan(_offset, Length);

    public ReadOnlyMemory<byte> Memory => Array.AsMemory(_offset, Length);

    internal Span<byte> Free => Array.AsSpan(_offset + Length, Capacity - Length);

    /// <summary>Whether the buffer starts on a 4 KiB boundary of pinned memory (O_DIRECT can read into it).</summary>
    internal bool IsAligned => _pinned;

    /// <summary>The first <paramref name="count"/> bytes of the buffer, to fill before setting <see cref="Length"/>.</summary>
    internal Span<byte> Writable(int count) => Array.AsSpan(_offset, count);

    internal Memory<byte> FreeMemory => Array.AsMemory(_offset + Length, Capacity - Length);

    /// <summary>
    /// The chunk's bytes followed by zeros up to a whole number of 4 KiB blocks, starting on a 4 KiB
    /// boundary of pinned memory: what an O_DIRECT write takes. Empty when this buffer is not aligned.
    /// Only the padding is written to; readers of <see cref="Span"/> are not disturbed.
    /// </summary>
    public Span<byte> AlignedPadded()
    {
        if (!_pinned) return default;
        var padded = (Length + Alignment - 1) / Alignment * Alignment;
        if (padded > Capacity) return default;
        var array = Array;
        array.AsSpan(_offset + Length, padded - Length).Clear();
        return array.AsSpan(_offset, padded);
    }

    public void Dispose()
    {
        if (Interlocked.Decrement(ref _references) > 0) return;
        var array = Interlocked.Exchange(ref _array, null);
        if (array is null) return;
        if (!_abandoned)
        {
            if (_pinned) PinnedBufferPool.Return(array);
            else ArrayPool<byte>.Shared.Return(array);
        }
        _released?.Invoke();
    }
}
