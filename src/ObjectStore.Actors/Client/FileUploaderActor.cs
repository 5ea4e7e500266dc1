using System.Net.Sockets;
using Akka.Actor;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Storage;
using ObjectStore.Actors.Transfer;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Client;

/// <summary>
/// The client's side of one put. When the node is on this machine (it offers a hand-over socket that
/// can be reached from here), the open file is handed to the node, which reads it itself. Otherwise,
/// when the node offers a data port, the file is streamed there on a background task (TCP's flow
/// control paces it) and progress comes back to this actor as messages; when it does not, or the port
/// cannot be reached, the file goes frame by frame over Akka.Remote with at most the node's window of
/// frames unacknowledged.
/// </summary>
public sealed class FileUploaderActor : WireActor
{
    private readonly IActorRef _node;
    private readonly string _path;
    private readonly string _bucket, _key;
    private readonly TaskCompletionSource<PutCompleted> _result;
    private readonly IProgress<long>? _progress;
    private readonly TimeSpan _idleTimeout;
    private FileStream? _file;
    private IActorRef? _session;
    private int _window, _frameSize;
    private long _nextSequence, _lastAcked = -1, _bytesSent;
    private bool _eof, _completeSent;
    private TcpClient? _dataConnection;

    private const int DataWriteSize = 1024 * 1024;

    private sealed record DataProgress(long Bytes);
    private sealed record HandedOver;
    private sealed record HandOverRefused(UploadReady Ready);
    private sealed record DataSent(long Bytes);
    /// <summary>The data port failed; <paramref name="BeforeAnyByte"/> means frames can still carry the whole file.</summary>
    private sealed record DataFailed(string Reason, bool BeforeAnyByte);

    public FileUploaderActor(IActorRef node, string path, string bucket, string key, TimeSpan idleTimeout,
        TaskCompletionSource<PutCompleted> result, IProgress<long>? progress)
    {
        (_node, _path, _bucket, _key, _idleTimeout, _result, _progress) = (node, path, bucket, key, idleTimeout, result, progress);

        Receive<UploadReady>(m =>
        {
            _session = m.Session;
            _window = Math.Max(1, m.Window);
            _frameSize = Math.Clamp(m.FrameSize, 1024, StoreSettings.MaxFrameSize);
            Context.Watch(_session);
            // A file that fits in one window goes as frames: one round trip, where a data connection
            // would first cost a TCP handshake and a token exchange.
            var large = m.DataToken.Length > 0 && _file!.Length > (long)_window * _frameSize;
            if (large && m.HandOver.Length > 0 && FileHandOver.Supported)
                StartHandOver(m);
            else if (large && m.DataPort > 0)
                StartDataPort(m.DataHost, m.DataPort, m.DataToken);
            else
                Pump();
        });
        Receive<DataProgress>(m => _progress?.Report(m.Bytes));
        Receive<UploadProgress>(m => _progress?.Report(m.Bytes));
        Receive<HandedOver>(_ =>
        {
            _bytesSent = _announcedSize;
            _completeSent = true;
            _session!.Tell(new UploadComplete(_announcedSize, UploadComplete.ViaDataPort));
        });
        Receive<HandOverRefused>(m =>
        {
            // Another machine (no such socket here), another user's namespace, or a refusal: send the bytes.
            if (m.Ready.DataPort > 0) StartDataPort(m.Ready.DataHost, m.Ready.DataPort, m.Ready.DataToken);
            else Pump();
        });
        Receive<DataSent>(m =>
        {
            _bytesSent = m.Bytes;
            _completeSent = true;
            _session!.Tell(new UploadComplete(m.Bytes, UploadComplete.ViaDataPort));
        });
        Receive<DataFailed>(m =>
        {
            _dataConnection?.Dispose();
            _dataConnection = null;
            if (m.BeforeAnyByte)
            {
                // The node's data port is not reachable from here (a firewall, another network): frames work anywhere Akka.Remote does.
                _file!.Position = 0;
                Pump();
                return;
            }
            _session?.Tell(new CancelTransfer($"client data connection failed: {m.Reason}"));
            Finish(() => _result.TrySetException(new StoreException(StoreErrorCode.Unavailable,
                $"put of {_bucket}/{_key}: the data connection failed ({m.Reason}); nothing was stored")));
        });
        Receive<FrameAck>(m =>
        {
            _lastAcked = Math.Max(_lastAcked, m.Sequence);
            _progress?.Report(Math.Min(_bytesSent, (_lastAcked + 1) * (long)_frameSize));
            Pump();
        });
        Receive<PutCompleted>(m => Finish(() => _result.TrySetResult(m)));
        Receive<StoreError>(m => Finish(() => _result.TrySetException(new StoreException(m.Code, m.Message))));
        Receive<Terminated>(_ => Finish(() => _result.TrySetException(
            new StoreException(StoreErrorCode.Unavailable, $"put of {_bucket}/{_key}: the node went away during the upload; nothing was stored"))));
        Receive<ReceiveTimeout>(_ =>
        {
            _session?.Tell(new CancelTransfer("client timed out"));
            Finish(() => _result.TrySetException(new StoreException(StoreErrorCode.Timeout,
                $"put of {_bucket}/{_key}: the node did not answer for {_idleTimeout.TotalSeconds:0}s; nothing was stored")));
        });
    }

    public static Props Props(IActorRef node, string path, string bucket, string key, TimeSpan idleTimeout,
        TaskCompletionSource<PutCompleted> result, IProgress<long>? progress = null) =>
        Akka.Actor.Props.Create(() => new FileUploaderActor(node, path, bucket, key, idleTimeout, result, progress));

    protected override void PreStart()
    {
        try
        {
            _file = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Finish(() => _result.TrySetException(new StoreException(StoreErrorCode.InvalidRequest, $"cannot read {_path}: {e.Message}")));
            return;
        }
        Context.SetReceiveTimeout(_idleTimeout);
        _announcedSize = _file.Length;
        _node.Tell(new PutObject(_bucket, _key, _announcedSize));
    }

    protected override void PostStop()
    {
        _file?.Dispose();
        _dataConnection?.Dispose();
    }

    private long _announcedSize;
    private static readonly TimeSpan HandOverTimeout = TimeSpan.FromSeconds(10);

    private void StartHandOver(UploadReady ready)
    {
        var file = _file!;
        var self = Self;
        Task.Run<object>(() =>
        {
            try
            {
                using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                socket.Connect(new UnixDomainSocketEndPoint("\0" + ready.HandOver));
                FileHandOver.Send(socket, ready.DataToken, file.SafeFileHandle, HandOverTimeout);
                socket.ReceiveTimeout = (int)HandOverTimeout.TotalMilliseconds;
                var answer = new byte[1];
                return socket.Receive(answer) == 1 && answer[0] == 1
                    ? new HandedOver()
                    : new HandOverRefused(ready);
            }
            catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
            {
                return new HandOverRefused(ready);
            }
        }).PipeTo(self);
    }

    private void StartDataPort(string host, int port, byte[] token)
    {
        var file = _file!;
        var self = Self;
        var connection = _dataConnection = new TcpClient { NoDelay = true };
        Task.Run<object>(async () =>
        {
            try
            {
                await DataPlane.OpenAsync(connection, host, port, token);
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
            {
                return new DataFailed(e.Message, BeforeAnyByte: true);
            }
            long sent = 0;
            try
            {
                var stream = connection.GetStream();
                var buffer = new byte[DataWriteSize];
                int read;
                while ((read = await file.ReadAsync(buffer)) > 0)
                {
                    await stream.WriteAsync(buffer.AsMemory(0, read));
                    sent += read;
                    self.Tell(new DataProgress(sent));
                }
                connection.Client.Shutdown(SocketShutdown.Send);
                return new DataSent(sent);
            }
            catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
            {
                return new DataFailed(e.Message, BeforeAnyByte: false);
            }
        }).PipeTo(self);
    }

    private void Pump()
    {
        if (_session is null || _file is null) return;
        while (!_eof && _nextSequence - (_lastAcked + 1) < _window)
        {
            var buffer = new byte[_frameSize];
            int read;
            try
            {
                read = _file.ReadAtLeast(buffer, _frameSize, throwOnEndOfStream: false);
            }
            catch (IOException e)
            {
                _session.Tell(new CancelTransfer($"client read error: {e.Message}"));
                Finish(() => _result.TrySetException(new StoreException(StoreErrorCode.InvalidRequest, $"cannot read {_path}: {e.Message}")));
                return;
            }
            if (read == 0)
            {
                _eof = true;
                break;
            }
            _session.Tell(new DataFrame(_nextSequence++, buffer.AsMemory(0, read)));
            _bytesSent += read;
            if (read < _frameSize) _eof = true;
        }
        if (_eof && !_completeSent)
        {
            _completeSent = true;
            _session.Tell(new UploadComplete(_bytesSent, _nextSequence));
        }
    }

    private void Finish(Action complete)
    {
        complete();
        Context.Stop(Self);
    }
}
