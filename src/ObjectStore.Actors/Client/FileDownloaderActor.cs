using System.Net.Sockets;
using Akka.Actor;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Transfer;
using static ObjectStore.Actors.Client.DownloadRoutes;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Client;

/// <summary>
/// The client's side of one get: writes the object into a <see cref="DownloadTarget"/> — from the node's
/// data port on a background task when the node offers one, else frame by frame, each acknowledged — and
/// completes it (size and hash checked, temp file renamed onto the target) only when every byte is in.
/// </summary>
public sealed partial class FileDownloaderActor : WireActor, IWithTimers
{
    private readonly IActorRef _node;
    private readonly string _bucket, _key, _targetPath;
    private readonly int _window, _frameSize;
    private readonly TimeSpan _idleTimeout;
    private readonly TaskCompletionSource<ObjectInfo> _result;
    private readonly Action<ObjectInfo>? _started;
    private readonly IProgress<long>? _progress;
    private DownloadTarget? _target;
    private IActorRef? _session;
    private ObjectInfo? _info;
    private long _nextSequence;
    private TcpClient? _dataConnection;
    /// <summary>The data task owns the target until it reports how it ended.</summary>
    private Task<object>? _dataTask;
    private Exception? _pendingError;
    /// <summary>The bytes come on the data port: its end of stream, not the session's messages, ends the get.</summary>
    private bool _viaDataPort;
    private Exception? _endedEarly;
    /// <summary>The node writes the object into the temp file this client handed it.</summary>
    private bool _viaHandOver;
    /// <summary>Passing the temp file to the node: until it ends, the file must stay open (the task reads its handle).</summary>
    private Task? _handOverTask;
    private long _handedOverLength = -1;
    private DateTime _handedOverGrew = DateTime.UtcNow;

    private sealed record EndedEarlyTimeout;
    private sealed record ReportLength : ILocalMessage
    {
        public static readonly ReportLength Instance = new();
    }

    /// <summary>How long a data connection that ended early waits for the node's reason (it comes on Akka.Remote, not in order with the connection).</summary>
    private static readonly TimeSpan ReasonGrace = TimeSpan.FromSeconds(2);

    public ITimerScheduler Timers { get; set; } = null!;

    public FileDownloaderActor(IActorRef node, string bucket, string key, string target, int window, int frameSize, TimeSpan idleTimeout,
        TaskCompletionSource<ObjectInfo> result, Action<ObjectInfo>? started, IProgress<long>? progress)
    {
        (_node, _bucket, _key, _targetPath, _window, _frameSize, _idleTimeout, _result, _started, _progress) =
            (node, bucket, key, target, window, frameSize, idleTimeout, result, started, progress);

        Receive<DownloadReady>(m =>
        {
            _session = m.Session;
            _info = m.Object;
            Context.Watch(_session);
            _started?.Invoke(m.Object);
            if (m.DataPort == 0 || m.DataToken.Length == 0) return; // frames, started by the node
            // A node on this machine writes into the temp file itself, whatever the object's size; a TCP
            // connection to its data port is worth it only beyond a window of frames, and below that the
            // node is asked for frames (it offers its data plane for every object larger than a frame).
            if (m.HandOver.Length > 0 && FileHandOver.Supported)
            {
                _viaHandOver = true;
                _handOverTask = DownloadRoutes.HandOver(_target!, m, Self);
            }
            else DataPortOrFrames(m);
        });
        HandOverReceives();
        Receive<UserCancelled>(_ =>
        {
            _session?.Tell(new CancelTransfer("cancelled by the user"));
            Fail(new StoreException(StoreErrorCode.Cancelled, $"get of {Name} cancelled; nothing was written"));
        });
        Receive<DataFrame>(m =>
        {
            if (_viaDataPort) Fail(new StoreException(StoreErrorCode.InvalidRequest, $"get of {Name}: a frame while the data connection is in use"));
            else HandleFrame(m);
        });
        Receive<DataProgress>(m => _progress?.Report(m.Bytes));
        Receive<DataReceived>(m =>
        {
            if (DataTaskEnded()) return;
            if (m.Bytes < _info!.Size)
                EndedEarly(new StoreException(StoreErrorCode.Unavailable, $"get of {Name}: the data connection closed after {m.Bytes} of {_info.Size} bytes"));
            // All bytes are here; the hash check decides. The node's DownloadComplete (and the end of its
            // session) may come before or after this, so neither is waited for.
            else Complete();
        });
        Receive<DataFailed>(m =>
        {
            if (DataTaskEnded()) return;
            _dataConnection?.Dispose();
            _dataConnection = null;
            if (!m.BeforeAnyByte)
            {
                EndedEarly(new StoreException(StoreErrorCode.Unavailable, $"get of {Name}: the data connection failed ({m.Reason})"));
                return;
            }
            // The node's data port is not reachable from here: frames work anywhere Akka.Remote does.
            _viaDataPort = false;
            _session!.Tell(new FrameAck(-1));
        });
        Receive<LocalWriteFailed>(m =>
        {
            if (DataTaskEnded()) return;
            _session?.Tell(new CancelTransfer("client cannot write the file"));
            Fail(new StoreException(StoreErrorCode.InvalidRequest, $"cannot write {_targetPath}: {m.Reason}"));
        });
        Receive<EndedEarlyTimeout>(_ => Fail(_endedEarly!));
        Receive<DownloadComplete>(m =>
        {
            if (_viaDataPort) return;
            if (m.TotalBytes != _info?.Size) Fail(new StoreException(StoreErrorCode.Corrupt, $"get of {Name}: the node announced {m.TotalBytes} bytes, the object has {_info?.Size}"));
            else Complete();
        });
        Receive<StoreError>(m =>
        {
            var local = m.Message.IndexOf(Transfer.Download.FileDownloadSink.ClientFileFailure, StringComparison.Ordinal);
            Fail(_viaHandOver && local >= 0
                ? new StoreException(StoreErrorCode.InvalidRequest, $"cannot write {_targetPath}: {m.Message[(local + Transfer.Download.FileDownloadSink.ClientFileFailure.Length)..]}")
                : new StoreException(m.Code, m.Message));
        });
        // On the data port the connection tells whether the node went away (the session ends as soon as it
        // has written the last byte); an unhandled Terminated would kill this actor (DeathPactException).
        Receive<Terminated>(_ =>
        {
            // A handed-over get: the session ends right after sending DownloadComplete, which may come second.
            if (_viaHandOver && _endedEarly is null)
            {
                EndedEarly(new StoreException(StoreErrorCode.Unavailable, $"get of {Name}: the node went away during the download"));
                return;
            }
            if (!_viaDataPort || _endedEarly is not null)
                Fail(_endedEarly ?? new StoreException(StoreErrorCode.Unavailable, $"get of {Name}: the node went away during the download"));
        });
        Receive<ReceiveTimeout>(_ =>
        {
            _session?.Tell(new CancelTransfer("client timed out"));
            Fail(new StoreException(StoreErrorCode.Timeout, $"get of {Name}: the node did not answer for {_idleTimeout.TotalSeconds:0}s"));
        });
    }

    public static Props Props(IActorRef node, string bucket, string key, string target, int window, int frameSize, TimeSpan idleTimeout,
        TaskCompletionSource<ObjectInfo> result, Action<ObjectInfo>? started = null, IProgress<long>? progress = null) =>
        ActorProps.Of(() => new FileDownloaderActor(node, bucket, key, target, window, frameSize, idleTimeout, result, started, progress));

    private bool WorthAConnection => DataPlane.WorthAConnection(_info?.Size ?? 0, _window, _frameSize);

    private string Name => $"{_bucket}/{_key}";

    protected override void PreStart()
    {
        try
        {
            _target = new DownloadTarget(_targetPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Fail(new StoreException(StoreErrorCode.InvalidRequest, $"cannot write {_targetPath}: {e.Message}"));
            return;
        }
        Context.SetReceiveTimeout(_idleTimeout);
        _node.Tell(new GetObject(_bucket, _key, _window));
    }

    protected override void PostStop()
    {
        _dataConnection?.Dispose();
        var target = _target;
        // Still running, the data task owns the target until it sees its connection closed, and a hand-over
        // until the node has taken (or refused) the file.
        if ((_dataTask ?? _handOverTask) is { } owner) owner.ContinueWith(_ => target?.Dispose(), TaskScheduler.Default);
        else target?.Dispose();
    }

    /// <summary>Not handed over: the node's data port for an object worth a TCP connection, else frames.</summary>
    private void DataPortOrFrames(DownloadReady m)
    {
        if (WorthAConnection) StartDataPort(m.DataHost, m.DataPort, m.DataToken);
        else _session!.Tell(new FrameAck(-1));
    }

    private void StartDataPort(string host, int port, byte[] token)
    {
        _dataConnection = new TcpClient { NoDelay = true };
        _viaDataPort = true;
        _dataTask = ReceiveFromDataPort(_target!, _dataConnection, host, port, token, _info!.Size, Self);
        _dataTask.PipeTo(Self);
    }

    /// <summary>The data task reported its end: the target is this actor's again. True when a failure was waiting for that.</summary>
    private bool DataTaskEnded()
    {
        _dataTask = null;
        return PendingFailure();
    }

    private bool PendingFailure()
    {
        if (_pendingError is null) return false;
        Fail(_pendingError);
        return true;
    }

    private void HandleFrame(DataFrame m)
    {
        if (_target is null || _info is null || m.Sequence != _nextSequence)
        {
            Fail(new StoreException(StoreErrorCode.InvalidRequest, $"get of {Name}: frame {m.Sequence} out of order"));
            return;
        }
        try
        {
            _target.Write(m.Data.Span);
        }
        catch (IOException e)
        {
            Fail(new StoreException(StoreErrorCode.InvalidRequest, $"cannot write {_targetPath}: {e.Message}"));
            return;
        }
        _nextSequence++;
        _session!.Tell(new FrameAck(m.Sequence));
        _progress?.Report(_target.Written);
    }

    private void Complete()
    {
        if (_target is null || _info is null) return;
        try
        {
            _target.Complete(_info, Name);
        }
        catch (StoreException e)
        {
            Fail(e);
            return;
        }
        _result.TrySetResult(_info);
        Context.Stop(Self);
    }

    /// <summary>
    /// The data connection ended before the last byte. A node that stops a get for a reason (a corrupt
    /// chunk, say) sends that reason as a message and closes the connection; the two race, so wait a
    /// moment for the reason before reporting the bare connection failure.
    /// </summary>
    private void EndedEarly(Exception error)
    {
        _session?.Tell(new CancelTransfer("client data connection ended early"));
        _endedEarly = error;
        Timers.StartSingleTimer(nameof(EndedEarlyTimeout), new EndedEarlyTimeout(), ReasonGrace);
    }

    private void Fail(Exception error)
    {
        if (_dataTask is not null || _handOverTask is not null)
        {
            // Let the data task stop first (closing its connection ends it), or the hand-over end (it reads
            // the temp file's handle), so that the temp file is gone before the caller hears of the failure.
            _pendingError ??= error;
            _dataConnection?.Dispose();
            return;
        }
        _target?.Dispose();
        _target = null;
        _result.TrySetException(error);
        Context.Stop(Self);
    }
}
