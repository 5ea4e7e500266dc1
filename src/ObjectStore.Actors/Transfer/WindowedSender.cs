namespace ObjectStore.Actors.Transfer;

/// <summary>Where a <see cref="WindowedSender"/> takes its bytes from.</summary>
public interface IPartSource
{
    /// <summary>The next part of at most <paramref name="max"/> bytes, when one is ready now.</summary>
    bool TryTake(int max, out ReadOnlyMemory<byte> part);

    /// <summary>Every part has been taken and none will come.</summary>
    bool Exhausted { get; }

    /// <summary>
    /// The sender is done. <paramref name="nothingInFlight"/>: every part it sent was acknowledged, so no
    /// message still queued for the network can read the bytes, and pooled memory may be reused.
    /// </summary>
    void Release(bool nothingInFlight);
}

/// <summary>
/// The one flow-controlled send loop of the store: a transfer's bytes go out as parts of at most a frame,
/// never more than a window of them unacknowledged, each acknowledgement (cumulative, by part or by byte)
/// making room for more; a transfer with parts out and no progress for the timeout has expired. The bytes'
/// memory is given back only when nothing can still send it (<see cref="IPartSource.Release"/>).
/// Used by puts and gets over Akka.Remote frames and by chunk pushes and fetches between nodes; the owning
/// actor sends the messages (<c>send</c>), passes the acknowledgements in, and asks <see cref="Expired"/>
/// when its receive timeout fires, to tell a receiver that stopped reading from a peer that went silent.
/// </summary>
/// <remarks>
/// Akka.Streams stream refs are the field's general answer for this over Akka.Remote. As one long stream
/// they moved bytes about as fast as this loop; as the store moves them — a chunk of about 1 MiB per
/// transfer, several at once — each stream ref's set-up made them markedly slower (docs/BENCHMARKS.md,
/// "stream refs"), so the loop stays.
/// </remarks>
public sealed class WindowedSender
{
    private readonly IPartSource _source;
    private readonly int _partSize;
    private readonly int _window;
    private readonly Action<long, long, ReadOnlyMemory<byte>> _send;
    private readonly TimeSpan _timeout;
    private readonly Func<DateTime> _clock;
    private readonly Queue<(long Sequence, long End)> _inFlight = new();
    private DateTime _lastProgress;
    private bool _closed;

    /// <param name="send">Sends one part: its sequence number (from 0), its offset in the transfer, its bytes.</param>
    public WindowedSender(IPartSource source, int partSize, int window, Action<long, long, ReadOnlyMemory<byte>> send, TimeSpan timeout,
        Func<DateTime>? clock = null)
    {
        if (partSize < 1) throw new ArgumentOutOfRangeException(nameof(partSize));
        if (window < 1) throw new ArgumentOutOfRangeException(nameof(window));
        (_source, _partSize, _window, _send, _timeout) = (source, partSize, window, send, timeout);
        _clock = clock ?? (() => DateTime.UtcNow);
        _lastProgress = _clock();
    }

    /// <summary>Bytes sent so far.</summary>
    public long Sent { get; private set; }

    /// <summary>Bytes the receiver has acknowledged.</summary>
    public long Acknowledged { get; private set; }

    /// <summary>Parts sent so far (the next part's sequence number).</summary>
    public long Parts { get; private set; }

    public int PartsInFlight => _inFlight.Count;

    /// <summary>Every byte was sent (some may not be acknowledged yet).</summary>
    public bool AllSent => _source.Exhausted;

    /// <summary>Every byte was sent and acknowledged.</summary>
    public bool Complete => _source.Exhausted && _inFlight.Count == 0;

    /// <summary>Parts are out and neither an acknowledgement nor a new part came for the timeout.</summary>
    public bool Expired => _inFlight.Count > 0 && _clock() - _lastProgress > _timeout;

    /// <summary>Sends what the window allows.</summary>
    public void Pump()
    {
        if (_closed) return;
        while (_inFlight.Count < _window && _source.TryTake(_partSize, out var part))
        {
            var sequence = Parts++;
            var offset = Sent;
            Sent += part.Length;
            _inFlight.Enqueue((sequence, Sent));
            _lastProgress = _clock();
            _send(sequence, offset, part);
        }
    }

    /// <summary>Every part up to and including <paramref name="sequence"/> has arrived. Returns whether that is news.</summary>
    public bool AcknowledgeParts(long sequence) => Acknowledge(p => p.Sequence <= sequence);

    /// <summary>Every byte before <paramref name="received"/> has arrived. Returns whether that is news.</summary>
    public bool AcknowledgeBytes(long received) => Acknowledge(p => p.End <= received);

    private bool Acknowledge(Func<(long Sequence, long End), bool> arrived)
    {
        var progress = false;
        while (_inFlight.TryPeek(out var part) && arrived(part))
        {
            _inFlight.Dequeue();
            Acknowledged = part.End;
            progress = true;
        }
        if (progress) _lastProgress = _clock();
        return progress;
    }

    /// <summary>Ends the transfer, successful or not; the source's memory is reused only when no part is still out.</summary>
    public void Close()
    {
        if (_closed) return;
        _closed = true;
        _source.Release(nothingInFlight: _inFlight.Count == 0);
    }
}
