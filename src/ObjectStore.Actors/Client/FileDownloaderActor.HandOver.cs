using Akka.Actor;
using ObjectStore.Actors.Protocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Client;

/// <summary>
/// The handed-over way of a get: a shell on the node's machine passes the node its temp file, the node
/// writes the object into it, and DownloadComplete says that every chunk was checked against its id (a node
/// of an earlier version: brings the hash of what it wrote).
/// </summary>
public sealed partial class FileDownloaderActor
{
    private void HandOverReceives()
    {
        Receive<DownloadRoutes.HandedOver>(_ =>
        {
            if (HandOverEnded()) return;
            Timers.StartPeriodicTimer(nameof(ReportLength), ReportLength.Instance, TimeSpan.FromMilliseconds(200));
        });
        Receive<DownloadRoutes.HandOverRefused>(m =>
        {
            if (HandOverEnded()) return;
            _viaHandOver = false;
            DataPortOrFrames(m.Ready);
        });
        // The node says nothing while it writes: the file's growth is the progress, and no growth for the
        // idle timeout is a stalled get (these ticks keep the receive timeout from firing instead).
        Receive<ReportLength>(_ =>
        {
            long length;
            try { length = _target?.LengthOnDisk ?? 0; }
            catch (IOException) { return; }
            if (length != _handedOverLength) (_handedOverLength, _handedOverGrew) = (length, DateTime.UtcNow);
            else if (DateTime.UtcNow - _handedOverGrew > _idleTimeout)
            {
                _session?.Tell(new CancelTransfer("client timed out"));
                Fail(new StoreException(StoreErrorCode.Timeout, $"get of {Name}: the node wrote nothing for {_idleTimeout.TotalSeconds:0}s"));
                return;
            }
            _progress?.Report(length);
        });
        Receive<DownloadComplete>(m => _viaHandOver, m =>
        {
            if (m.TotalBytes != _info?.Size || (!m.ChunksChecked && m.WrittenSha256 is null))
            {
                Fail(new StoreException(StoreErrorCode.Corrupt, m.TotalBytes != _info?.Size
                    ? $"get of {Name}: the node announced {m.TotalBytes} bytes written, the object has {_info?.Size}"
                    : $"get of {Name}: the node wrote the file but checked neither its chunks nor its hash"));
                return;
            }
            try
            {
                _target!.CompleteWrittenByNode(_info, Name, m.ChunksChecked ? null : m.WrittenSha256);
            }
            catch (StoreException e)
            {
                Fail(e);
                return;
            }
            _result.TrySetResult(_info);
            Context.Stop(Self);
        });
    }

    /// <summary>The hand-over task reported its end: as <see cref="DataTaskEnded"/>.</summary>
    private bool HandOverEnded()
    {
        _handOverTask = null;
        return PendingFailure();
    }
}
