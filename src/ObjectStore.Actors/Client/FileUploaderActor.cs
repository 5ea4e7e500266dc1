using Akka.Actor;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Storage;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Client;

/// <summary>
/// The client's side of one put: reads a local file frame by frame and keeps at most the node's window
/// of frames unacknowledged. The file is read on this actor; reads of 64 KiB are short and keep the
/// frames in file order without any extra bookkeeping.
/// </summary>
public sealed class FileUploaderActor : ReceiveActor
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
            Pump();
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
        _node.Tell(new PutObject(_bucket, _key, _file.Length));
    }

    protected override void PostStop() => _file?.Dispose();

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
