using ObjectStore.Core.Chunking;

namespace ObjectStore.Actors.Transfer;

/// <summary>Parts of one pooled chunk buffer; this source owns one reference to it.</summary>
public sealed class ChunkBufferSource(ChunkBuffer buffer) : IPartSource
{
    private int _taken;

    public bool TryTake(int max, out ReadOnlyMemory<byte> part)
    {
        part = buffer.Memory.Slice(_taken, Math.Min(max, buffer.Length - _taken));
        _taken += part.Length;
        return part.Length > 0;
    }

    public bool Exhausted => _taken == buffer.Length;

    public void Release(bool nothingInFlight)
    {
        if (nothingInFlight) buffer.Dispose();
        else buffer.Abandon();
    }
}

/// <summary>
/// Parts of a sequence of arrays that arrive while the transfer runs (chunks read for a get, file reads);
/// a part never spans two of them. The arrays are not pooled: the garbage collector frees them.
/// </summary>
public sealed class ArrayQueueSource : IPartSource
{
    private readonly Queue<ReadOnlyMemory<byte>> _queue = new();
    private ReadOnlyMemory<byte> _current;
    private bool _ended;

    public ArrayQueueSource() { }

    /// <summary>A source of exactly these bytes.</summary>
    public ArrayQueueSource(ReadOnlyMemory<byte> all)
    {
        Add(all);
        End();
    }

    /// <summary>Arrays queued and not yet taken whole.</summary>
    public int Queued => _queue.Count + (_current.IsEmpty ? 0 : 1);

    public void Add(ReadOnlyMemory<byte> bytes)
    {
        if (_ended) throw new InvalidOperationException("the source has ended");
        if (bytes.Length > 0) _queue.Enqueue(bytes);
    }

    /// <summary>No more arrays will be added.</summary>
    public void End() => _ended = true;

    public bool TryTake(int max, out ReadOnlyMemory<byte> part)
    {
        if (_current.IsEmpty && !_queue.TryDequeue(out _current))
        {
            part = default;
            return false;
        }
        part = _current[..Math.Min(max, _current.Length)];
        _current = _current[part.Length..];
        return true;
    }

    public bool Exhausted => _ended && _current.IsEmpty && _queue.Count == 0;

    public void Release(bool nothingInFlight) { }
}

/// <summary>Parts read from a stream as they are taken (a file sent as frames), each into an array of its own.</summary>
public sealed class StreamSource(Stream stream) : IPartSource
{
    private bool _ended;

    /// <summary>Reads the next part; an IOException from the stream reaches the caller of <see cref="WindowedSender.Pump"/>.</summary>
    public bool TryTake(int max, out ReadOnlyMemory<byte> part)
    {
        part = default;
        if (_ended) return false;
        var buffer = new byte[max];
        var read = stream.ReadAtLeast(buffer, max, throwOnEndOfStream: false);
        if (read < max) _ended = true;
        if (read == 0) return false;
        part = buffer.AsMemory(0, read);
        return true;
    }

    public bool Exhausted => _ended;

    public void Release(bool nothingInFlight) { }
}
