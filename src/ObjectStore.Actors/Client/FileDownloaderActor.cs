using System.Security.Cryptography;
using Akka.Actor;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Storage;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Client;

/// <summary>
/// The client's side of one get: writes frames to a temp file beside the target, checks the size and
/// SHA-256 of the whole object, and only then renames the temp file into place. A failed get leaves no
/// half file, and a file that does not match the object's hash is never presented as the object.
/// </summary>
public sealed class FileDownloaderActor : ReceiveActor
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
        });
        Receive<DataFrame>(HandleFrame);
        Receive<DownloadComplete>(HandleComplete);
        Receive<StoreError>(m => Fail(new StoreException(m.Code, m.Message)));
        Receive<Terminated>(_ => Fail(new StoreException(StoreErrorCode.Unavailable, $"get of {_bucket}/{_key}: the node went away during the download")));
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
        _sha.Dispose();
        _file?.Dispose();
        if (!_done) DurableFiles.TryDelete(_temp);
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

    private void Fail(Exception error)
    {
        _result.TrySetException(error);
        Context.Stop(Self);
    }

}
