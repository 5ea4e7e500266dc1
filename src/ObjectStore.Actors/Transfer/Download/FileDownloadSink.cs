using System.Security.Cryptography;
using Akka.Actor;
using Microsoft.Win32.SafeHandles;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Hashing;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Transfer.Download;

/// <summary>
/// The object written straight into the temp file a client on this machine handed over: no byte crosses a
/// socket, and the shell does no work. Each chunk (verified against its id by the reader) is written at
/// its offset and hashed into the object's SHA-256 on a background task, one chunk at a time in order;
/// at the end DownloadComplete carries that hash, which the client checks against the object's.
/// </summary>
internal sealed class FileDownloadSink(IDownloadSinkOwner owner, IActorRef client, IActorRef self, long size, SafeFileHandle file) : IDownloadSink
{
    /// <summary>How a failure to write the handed-over file begins, so that the client can say it in its own words.</summary>
    public const string ClientFileFailure = "writing the handed-over file failed: ";

    private sealed record Written : ILocalMessage;
    private sealed record WriteFailed(string Reason) : ILocalMessage;

    private readonly Queue<byte[]> _queue = new();
    private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _offset;
    private bool _writing, _ended, _done;

    public void Add(byte[] chunk)
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
                owner.SinkMoved();
                WriteNext();
                return true;
            case WriteFailed m:
                // Not the node's fault: the client's disk (full, say). The client names its own file.
                owner.SinkFailed(StoreErrorCode.InvalidRequest, $"{ClientFileFailure}{m.Reason}");
                return true;
            default:
                return false;
        }
    }

    private void WriteNext()
    {
        if (_writing || _done) return;
        if (_queue.TryDequeue(out var data))
        {
            _writing = true;
            var offset = _offset;
            _offset += data.Length;
            Task.Run(() =>
            {
                // Hash and write on one task: the hash is of what this node put in the file.
                _sha.AppendData(data);
                RandomAccess.Write(file, data, offset);
            }).PipeTo(self, success: () => new Written(), failure: e => new WriteFailed(e.GetBaseException().Message));
            return;
        }
        if (!_ended) return;
        _done = true;
        client.Tell(new DownloadComplete(size, ContentHash.FromBytes(_sha.GetHashAndReset())));
        owner.SinkDone();
    }

    public void Dispose()
    {
        file.Dispose();
        if (!_writing) _sha.Dispose();
    }
}
