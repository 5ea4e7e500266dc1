using Akka.Actor;
using Microsoft.Win32.SafeHandles;
using ObjectStore.Actors.Protocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.ChunkStorageProtocol;

namespace ObjectStore.Actors.Transfer.Download;

/// <summary>
/// The object written straight into the temp file a client on this machine handed over: no byte crosses a
/// socket, and the shell does no work. The chunks come checked against their ids (each on the reading
/// thread, several at once); they are written at their offsets, in order, one at a time on a background
/// task, and DownloadComplete says so (<see cref="DownloadComplete.ChunksChecked"/>). The object is not
/// hashed again: its chunk list pins every byte, and that one sequential SHA-256 pass was the get's
/// bottleneck (docs/BENCHMARKS.md, "2026-12-02 (evening)").
/// </summary>
internal sealed class FileDownloadSink : IDownloadSink
{
    /// <summary>How a failure to write the handed-over file begins, so that the client can say it in its own words.</summary>
    public const string ClientFileFailure = "writing the handed-over file failed: ";

    private sealed record Written : ILocalMessage;
    private sealed record WriteFailed(string Reason) : ILocalMessage;

    private readonly IDownloadSinkOwner _owner;
    private readonly IActorRef _client, _self;
    private readonly long _size;
    private readonly SafeFileHandle _file;
    private readonly Queue<ChunkRead> _queue = new();
    private long _offset;
    private bool _writing, _ended, _done;

    public FileDownloadSink(IDownloadSinkOwner owner, IActorRef client, IActorRef self, long size, SafeFileHandle file) =>
        (_owner, _client, _self, _size, _file) = (owner, client, self, size, file);

    public void Add(ChunkRead chunk)
    {
        _queue.Enqueue(chunk);
        WriteNext();
    }

    public void End()
    {
        _ended = true;
        WriteNext();
    }

    public int Pending => _queue.Count + (_writing ? 1 : 0);

    public string Stalled => "writing the client's file made no progress";

    public bool Handle(object message)
    {
        switch (message)
        {
            case Written:
                _writing = false;
                _owner.SinkMoved();
                WriteNext();
                return true;
            case WriteFailed m:
                // Not the node's fault: the client's disk (full, say). The client names its own file.
                _owner.SinkFailed(StoreErrorCode.InvalidRequest, $"{ClientFileFailure}{m.Reason}");
                return true;
            default:
                return false;
        }
    }

    private void WriteNext()
    {
        if (_writing || _done) return;
        if (_queue.TryDequeue(out var chunk))
        {
            _writing = true;
            var offset = _offset;
            Task.Run<object>(() =>
            {
                using var lease = chunk.Lease; // a pooled read goes back once written
                RandomAccess.Write(_file, chunk.Data.Span, offset);
                return new Written();
            }).PipeTo(_self, failure: e => new WriteFailed(e.GetBaseException().Message));
            _offset += chunk.Data.Length;
            return;
        }
        if (!_ended) return;
        _done = true;
        _client.Tell(new DownloadComplete(_size, ChunksChecked: true));
        _owner.SinkDone();
    }

    public void Dispose()
    {
        foreach (var queued in _queue) queued.Lease?.Dispose();
        _queue.Clear();
        _file.Dispose();
    }
}
