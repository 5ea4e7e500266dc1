using System.Net.Sockets;
using Akka.Actor;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Storage;
using ObjectStore.Actors.Transfer;
using static ObjectStore.Actors.Client.UploadRoutes;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Client;

/// <summary>
/// The client's side of one put. The file is handed to the node itself when the node is on this machine
/// (it offers a hand-over socket that can be reached from here), or else, when it is larger than a window
/// of frames, streamed to its data port; a smaller file, or one whose node offers neither or cannot be
/// reached that way, goes as frames over Akka.Remote through a <see cref="WindowedSender"/> with the node's window.
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
    private long _announcedSize;
    private IActorRef? _session;
    private WindowedSender? _frames;
    private bool _completeSent;
    private TcpClient? _dataConnection;
    private readonly FileMetadata? _metadata;
    private bool _cancelled;

    public FileUploaderActor(IActorRef node, string path, string bucket, string key, FileMetadata? metadata, TimeSpan idleTimeout,
        TaskCompletionSource<PutCompleted> result, IProgress<long>? progress)
    {
        (_node, _path, _bucket, _key, _metadata, _idleTimeout, _result, _progress) = (node, path, bucket, key, metadata, idleTimeout, result, progress);

        // The node decides what a cancel means: before the commit it drops the put and says so
        // (StoreError Cancelled); once committing, it finishes and answers PutCompleted. Either answer
        // is passed on as it is, so the user hears what the store holds.
        Receive<UserCancelled>(_ =>
        {
            if (_cancelled) return;
            _cancelled = true;
            if (_session is null)
            {
                Finish(new StoreException(StoreErrorCode.Cancelled, $"put of {_bucket}/{_key} cancelled before the node started it; nothing was stored"));
                return;
            }
            _frames?.Close();
            _dataConnection?.Dispose();
            _session.Tell(new CancelTransfer("cancelled by the user"));
        });

        Receive<UploadReady>(m =>
        {
            _session = m.Session;
            if (_cancelled)
            {
                _session.Tell(new CancelTransfer("cancelled by the user"));
                return;
            }
            Context.Watch(_session);
            _frames = new WindowedSender(new StreamSource(_file!), FrameSizeOf(m), WindowOf(m), (sequence, _, data) => _session.Tell(new DataFrame(sequence, data)), _idleTimeout);
            // A node on this machine takes the open file itself, whatever its size: a hand-over is one local
            // message, while frames cost both processes a serialization and a round trip per 64 KiB (files of
            // 64 KiB-2 MiB went as frames and took more CPU than all the small files of a tree in batches).
            // A TCP connection to the data port is worth it only beyond a window of frames.
            var handOver = m.DataToken.Length > 0 && m.HandOver.Length > 0 && FileHandOver.Supported;
            var large = m.DataToken.Length > 0 && WorthAConnection(m);
            if (handOver) UploadRoutes.HandOver(_file!, m, Self);
            else if (large && m.DataPort > 0) StartDataPort(m);
            else Pump();
        });
        Receive<DataProgress>(m => _progress?.Report(m.Bytes));
        Receive<UploadProgress>(m => _progress?.Report(m.Bytes));
        Receive<HandedOver>(_ => Complete(_announcedSize, UploadComplete.ViaDataPort));
        Receive<HandOverRefused>(m =>
        {
            if (m.Ready.DataPort > 0 && WorthAConnection(m.Ready)) StartDataPort(m.Ready);
            else Pump();
        });
        Receive<DataSent>(m => Complete(m.Bytes, UploadComplete.ViaDataPort));
        Receive<DataFailed>(_ => _cancelled, _ => { });
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
            Finish(new StoreException(StoreErrorCode.Unavailable, $"put of {_bucket}/{_key}: the data connection failed ({m.Reason}); nothing was stored"));
        });
        Receive<FrameAck>(m =>
        {
            if (_cancelled) return;
            _frames?.AcknowledgeParts(m.Sequence);
            _progress?.Report(_frames?.Acknowledged ?? 0);
            Pump();
        });
        Receive<PutCompleted>(m => Finish(() => _result.TrySetResult(m)));
        Receive<StoreError>(m => Finish(new StoreException(m.Code, m.Message)));
        Receive<Terminated>(_ => Finish(new StoreException(StoreErrorCode.Unavailable,
            $"put of {_bucket}/{_key}: the node went away {Outcome}")));
        Receive<ReceiveTimeout>(_ =>
        {
            _session?.Tell(new CancelTransfer("client timed out"));
            Finish(new StoreException(StoreErrorCode.Timeout, _frames is { Expired: true }
                ? $"put of {_bucket}/{_key}: the node stopped acknowledging frames for {_idleTimeout.TotalSeconds:0}s {Outcome}"
                : $"put of {_bucket}/{_key}: the node did not answer for {_idleTimeout.TotalSeconds:0}s {Outcome}"));
        });
    }

    /// <summary>The node's frame size and window, within what this client accepts.</summary>
    private static int FrameSizeOf(UploadReady m) => Math.Clamp(m.FrameSize, 1024, StoreSettings.MaxFrameSize);
    private static int WindowOf(UploadReady m) => Math.Max(1, m.Window);

    /// <summary>The file is larger than a window of the node's frames: a TCP connection to its data port pays off.</summary>
    private bool WorthAConnection(UploadReady m) => DataPlane.WorthAConnection(_announcedSize, WindowOf(m), FrameSizeOf(m));

    public static Props Props(IActorRef node, string path, string bucket, string key, TimeSpan idleTimeout,
        TaskCompletionSource<PutCompleted> result, IProgress<long>? progress = null, FileMetadata? metadata = null) =>
        ActorProps.Of(() => new FileUploaderActor(node, path, bucket, key, metadata, idleTimeout, result, progress));

    protected override void PreStart()
    {
        try
        {
            _file = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Finish(new StoreException(StoreErrorCode.InvalidRequest, $"cannot read {_path}: {e.Message}"));
            return;
        }
        Context.SetReceiveTimeout(_idleTimeout);
        _announcedSize = _file.Length;
        _node.Tell(new PutObject(_bucket, _key, _announcedSize, _metadata));
    }

    protected override void PostStop()
    {
        _frames?.Close();
        _file?.Dispose();
        _dataConnection?.Dispose();
    }

    /// <summary>
    /// What the client can truthfully say when it loses the node: before all bytes were sent, no object can
    /// have been committed; after, the node (or the nodes it wrote to) may have committed it.
    /// </summary>
    private string Outcome => _cancelled
        ? "after it was cancelled: the put may or may not have completed; `stat " + _bucket + "/" + _key + "` tells"
        : _completeSent
        ? $"after all bytes were sent: the put may or may not have completed; `stat {_bucket}/{_key}` tells"
        : "before all bytes were sent; nothing was stored";

    private void StartDataPort(UploadReady ready)
    {
        _dataConnection = new TcpClient { NoDelay = true };
        SendOnDataPort(_file!, _dataConnection, ready.DataHost, ready.DataPort, ready.DataToken, Self);
    }

    private void Pump()
    {
        if (_frames is null || _completeSent) return;
        try
        {
            _frames.Pump();
        }
        catch (IOException e)
        {
            _session?.Tell(new CancelTransfer($"client read error: {e.Message}"));
            Finish(new StoreException(StoreErrorCode.InvalidRequest, $"cannot read {_path}: {e.Message}"));
            return;
        }
        // Announced once the last frame is out; the node checks the count and total against what arrived.
        if (_frames.AllSent) Complete(_frames.Sent, _frames.Parts);
    }

    private void Complete(long bytes, long frames)
    {
        if (_completeSent) return;
        _completeSent = true;
        _session!.Tell(new UploadComplete(bytes, frames));
    }

    private void Finish(StoreException error) => Finish(() => _result.TrySetException(error));

    private void Finish(Action complete)
    {
        complete();
        Context.Stop(Self);
    }
}
