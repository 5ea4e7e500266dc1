using System.Net.Sockets;
using System.Security.Cryptography;
using Akka.Actor;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Storage;
using ObjectStore.Actors.Transfer;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Client;

/// <summary>
/// The client's side of one get: writes the object to a temp file beside the target — read from the
/// node's data port on a background task when the node offers one, else frame by frame — checks the
/// size and SHA-256 of the whole object, and only then renames the temp file into place. A failed get
/// leaves no half file, and a file that does not match the object's hash is never presented as the object.
/// </summary>
public sealed class FileDownloaderActor : WireActor, IWithTimers
{
    private readonly IActorRef _node;
    private readonly string _bucket, _key, _target;
    private readonly int _window;
    private readonly TimeSpan _idleTimeout;
    private readonly TaskCompletionSource<ObjectInfo> _result;
    private readonly Action<ObjectInfo>? _started;
    private readonly IProgress<long>? _progress;
    private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly string _temp;
    private FileStream? _file;
    private IActorRef? _session;
    private ObjectInfo? _info;
    private long _nextSequence, _received;
    private bool _done;
    private TcpClient? _dataConnection;
    private bool _dataRunning;
    private Task<object>? _dataTask;
    private Exception? _pendingError;
    /// <summary>The bytes come on the data port: its end of stream, not the session's messages, ends the get.</summary>
    private bool _viaDataPort;

    private const int DataReadSize = 1024 * 1024;

    private sealed record DataProgress(long Bytes);
    private sealed record DataReceived(long Bytes);
    /// <summary>The data port failed; <paramref name="BeforeAnyByte"/> means frames can still carry the whole object.</summary>
    private sealed record DataFailed(string Reason, bool BeforeAnyByte);
    /// <summary>The temp file could not be written (a full disk, say): the node is not to blame.</summary>
    private sealed record LocalWriteFailed(string Reason);
    private sealed record EndedEarlyTimeout;

    /// <summary>How long a data connection that ended early waits for the node's reason (it comes on Akka.Remote, not in order with the connection).</summary>
    private static readonly TimeSpan ReasonGrace = TimeSpan.FromSeconds(2);
    private Exception? _endedEarly;

    public ITimerScheduler Timers { get; set; } = null!;

    public FileDownloaderActor(IActorRef node, string bucket, string key, string target, int window, TimeSpan idleTimeout,
        TaskCompletionSource<ObjectInfo> result, Action<ObjectInfo>? started, IProgress<long>? progress)
    {
        (_node, _bucket, _key, _target, _window, _idleTimeout, _result, _started, _progress) =
            (node, bucket, key, Path.GetFullPath(target), window, idleTimeout, result, started, progress);
        _temp = Path.Combine(Path.GetDirectoryName(_target)!, $".{Path.GetFileName(_target)}.{Guid.NewGuid():N}.part");

        Receive<DownloadReady>(m =>
        {
            _session = m.Session;
            _info = m.Object;
            Context.Watch(_session);
            _started?.Invoke(m.Object);
            if (m.DataPort > 0 && m.DataToken.Length > 0) StartDataPort(m.DataHost, m.DataPort, m.DataToken);
        });
        Receive<DataFrame>(m =>
        {
            if (_viaDataPort)
            {
                Fail(new StoreException(StoreErrorCode.InvalidRequest, $"get of {_bucket}/{_key}: a frame while the data connection is in use"));
                return;
            }
            HandleFrame(m);
        });
        Receive<DataProgress>(m => _progress?.Report(m.Bytes));
        Receive<DataReceived>(m =>
        {
            _dataRunning = false;
            if (_pendingError is not null)
            {
                Fail(_pendingError);
                return;
            }
            _received = m.Bytes;
            if (_received < _info!.Size)
            {
                EndedEarly(new StoreException(StoreErrorCode.Unavailable,
                    $"get of {_bucket}/{_key}: the data connection closed after {_received} of {_info.Size} bytes"));
                return;
            }
            // All bytes are here; the hash check in HandleComplete decides. The node's DownloadComplete
            // (and the end of its session) may come before or after this, so neither is waited for.
            HandleComplete(new DownloadComplete(_info.Size));
        });
        Receive<DataFailed>(m =>
        {
            _dataRunning = false;
            if (_pendingError is not null)
            {
                Fail(_pendingError);
                return;
            }
            _dataConnection?.Dispose();
            _dataConnection = null;
            if (m.BeforeAnyByte)
            {
                // The node's data port is not reachable from here: frames work anywhere Akka.Remote does.
                _viaDataPort = false;
                _session!.Tell(new FrameAck(-1));
                return;
            }
            EndedEarly(new StoreException(StoreErrorCode.Unavailable, $"get of {_bucket}/{_key}: the data connection failed ({m.Reason})"));
        });
        Receive<EndedEarlyTimeout>(_ => Fail(_endedEarly!));
        Receive<LocalWriteFailed>(m =>
        {
            _dataRunning = false;
            _session?.Tell(new CancelTransfer("client cannot write the file"));
            Fail(_pendingError ?? new StoreException(StoreErrorCode.InvalidRequest, $"cannot write {_target}: {m.Reason}"));
        });
        Receive<DownloadComplete>(m =>
        {
            if (!_viaDataPort) HandleComplete(m);
        });
        Receive<StoreError>(m => Fail(new StoreException(m.Code, m.Message)));
        // On the data port the connection tells whether the node went away (the session ends as soon as it
        // has written the last byte); an unhandled Terminated would kill this actor (DeathPactException).
        Receive<Terminated>(_ =>
        {
            if (!_viaDataPort || _endedEarly is not null) Fail(_endedEarly ?? new StoreException(StoreErrorCode.Unavailable, $"get of {_bucket}/{_key}: the node went away during the download"));
        });
        Receive<ReceiveTimeout>(_ =>
        {
            _session?.Tell(new CancelTransfer("client timed out"));
            Fail(new StoreException(StoreErrorCode.Timeout, $"get of {_bucket}/{_key}: the node did not answer for {_idleTimeout.TotalSeconds:0}s"));
        });
    }

    public static Props Props(IActorRef node, string bucket, string key, string target, int window, TimeSpan idleTimeout,
        TaskCompletionSource<ObjectInfo> result, Action<ObjectInfo>? started = null, IProgress<long>? progress = null) =>
        Akka.Actor.Props.Create(() => new FileDownloaderActor(node, bucket, key, target, window, idleTimeout, result, started, progress));

    protected override void PreStart()
    {
        try
        {
            _file = new FileStream(_temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1024 * 1024);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Fail(new StoreException(StoreErrorCode.InvalidRequest, $"cannot write {_target}: {e.Message}"));
            return;
        }
        Context.SetReceiveTimeout(_idleTimeout);
        _node.Tell(new GetObject(_bucket, _key, _window));
    }

    protected override void PostStop()
    {
        _dataConnection?.Dispose();
        if (_dataRunning && _dataTask is not null)
        {
            // The data task owns the file and the hash until it sees its connection closed.
            var (sha, file, temp) = (_sha, _file, _temp);
            _dataTask.ContinueWith(_ =>
            {
                sha.Dispose();
                DisposeQuietly(file);
                DurableFiles.TryDelete(temp);
            }, TaskScheduler.Default);
            return;
        }
        _sha.Dispose();
        DisposeQuietly(_file);
        if (!_done) DurableFiles.TryDelete(_temp);
    }

    /// <summary>
    /// Closing the temp file flushes its buffer, which fails on a full disk; the file is deleted anyway,
    /// and an exception here would restart this actor (and with it the get).
    /// </summary>
    private static void DisposeQuietly(FileStream? file)
    {
        try { file?.Dispose(); }
        catch (IOException) { }
    }

    /// <summary>
    /// Reads the object from the node's data port on a background task, which alone touches the temp
    /// file and the hash until it reports <see cref="DataReceived"/> or <see cref="DataFailed"/>.
    /// </summary>
    private void StartDataPort(string host, int port, byte[] token)
    {
        var file = _file!;
        var sha = _sha;
        var size = _info!.Size;
        var self = Self;
        var connection = _dataConnection = new TcpClient { NoDelay = true };
        _dataRunning = true;
        _viaDataPort = true;
        _dataTask = Task.Run<object>(async () =>
        {
            try
            {
                await DataPlane.OpenAsync(connection, host, port, token);
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
            {
                return new DataFailed(e.Message, BeforeAnyByte: true);
            }
            long received = 0;
            try
            {
                var stream = connection.GetStream();
                var buffer = new byte[DataReadSize];
                int read;
                while ((read = await stream.ReadAsync(buffer)) > 0)
                {
                    received += read;
                    if (received > size) return new DataFailed($"the node sent more than the object's {size} bytes", BeforeAnyByte: false);
                    try
                    {
                        file.Write(buffer, 0, read);
                    }
                    catch (IOException e)
                    {
                        return new LocalWriteFailed(e.Message);
                    }
                    sha.AppendData(buffer, 0, read);
                    self.Tell(new DataProgress(received));
                }
                return new DataReceived(received);
            }
            catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
            {
                return new DataFailed(e.Message, BeforeAnyByte: false);
            }
        });
        _dataTask.PipeTo(self);
    }

    private void HandleFrame(DataFrame m)
    {
        if (_file is null || _info is null || m.Sequence != _nextSequence)
        {
            Fail(new StoreException(StoreErrorCode.InvalidRequest, $"get of {_bucket}/{_key}: frame {m.Sequence} out of order"));
            return;
        }
        try
        {
            _file.Write(m.Data.Span);
        }
        catch (IOException e)
        {
            Fail(new StoreException(StoreErrorCode.InvalidRequest, $"cannot write {_target}: {e.Message}"));
            return;
        }
        _sha.AppendData(m.Data.Span);
        _received += m.Data.Length;
        _nextSequence++;
        _session!.Tell(new FrameAck(m.Sequence));
        _progress?.Report(_received);
    }

    private void HandleComplete(DownloadComplete m)
    {
        if (_file is null || _info is null) return;
        var actual = ContentHash.FromBytes(_sha.GetHashAndReset());
        if (_received != _info.Size || m.TotalBytes != _info.Size)
        {
            Fail(new StoreException(StoreErrorCode.Corrupt, $"get of {_bucket}/{_key}: received {_received} bytes, the object has {_info.Size}"));
            return;
        }
        if (actual != _info.Sha256)
        {
            Fail(new StoreException(StoreErrorCode.Corrupt, $"get of {_bucket}/{_key}: content hashes to {actual.ToShortString()}, the object's hash is {_info.Sha256.ToShortString()}"));
            return;
        }
        try
        {
            _file.Dispose();
            _file = null;
            File.Move(_temp, _target, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Fail(new StoreException(StoreErrorCode.InvalidRequest, $"cannot write {_target}: {e.Message}"));
            return;
        }
        _done = true;
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
        if (_dataRunning)
        {
            // Let the data task stop first (closing its connection ends it), so that the temp file is
            // gone before the caller hears of the failure.
            _pendingError ??= error;
            _dataConnection?.Dispose();
            return;
        }
        DisposeQuietly(_file);
        _file = null;
        DurableFiles.TryDelete(_temp);
        _result.TrySetException(error);
        Context.Stop(Self);
    }

}
