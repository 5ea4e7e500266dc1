using System.Security.Cryptography;
using Akka.Actor;
using Microsoft.Win32.SafeHandles;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.ChunkStorageProtocol;

namespace ObjectStore.Actors.Transfer.Download;

/// <summary>
/// The object written straight into the temp file a client on this machine handed over: no byte crosses a
/// socket, and the shell does no work. Chunks are written at their offsets, in order, one at a time on a
/// background task that also hashes them into the object's SHA-256; at the end DownloadComplete carries that
/// hash, which the client checks against the object's. With the SHA-NI kernel (<see cref="ObjectHasher"/>)
/// the chunks come unverified and each is checked against its id in the same pass as the object's hash
/// (the two hashes were a third of a get's CPU each); one that does not match is not written, and the
/// session reads it again with checking on — which quarantines a corrupt copy and tries the next replica.
/// </summary>
internal sealed class FileDownloadSink : IDownloadSink
{
    /// <summary>How a failure to write the handed-over file begins, so that the client can say it in its own words.</summary>
    public const string ClientFileFailure = "writing the handed-over file failed: ";

    private sealed record Written : ILocalMessage;
    private sealed record Mismatched : ILocalMessage;
    private sealed record WriteFailed(string Reason) : ILocalMessage;

    private readonly IDownloadSinkOwner _owner;
    private readonly IActorRef _client, _self;
    private readonly long _size;
    private readonly SafeFileHandle _file;
    private readonly IReadOnlyList<ChunkRef> _chunks;
    private readonly ObjectHasher? _hasher;
    private readonly IncrementalHash? _sha;
    private readonly LinkedList<ChunkRead> _queue = new();
    private int _next;
    private long _offset;
    private bool _writing, _ended, _done, _awaitingReread;

    /// <param name="hasher">Null: the chunks come verified, and the object's hash is the runtime's SHA-256.</param>
    public FileDownloadSink(IDownloadSinkOwner owner, IActorRef client, IActorRef self, long size, SafeFileHandle file,
        IReadOnlyList<ChunkRef> chunks, ObjectHasher? hasher)
    {
        (_owner, _client, _self, _size, _file, _chunks, _hasher) = (owner, client, self, size, file, chunks, hasher);
        if (hasher is null) _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    }

    /// <summary>Whether chunks may come unverified (this sink checks them).</summary>
    public bool ChecksChunks => _hasher is not null;

    public void Add(ChunkRead chunk)
    {
        _queue.AddLast(chunk);
        WriteNext();
    }

    /// <summary>The chunk that did not match, read again with checking on: it goes first.</summary>
    public void Reread(ChunkRead chunk)
    {
        _awaitingReread = false;
        _queue.AddFirst(chunk);
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
                _next++;
                _owner.SinkMoved();
                WriteNext();
                return true;
            case Mismatched:
                _writing = false;
                _offset -= _chunks[_next].Length; // not written: the checked copy goes where it would have
                _awaitingReread = true;
                _owner.SinkNeedsChecked(_chunks[_next].Id);
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
        if (_writing || _done || _awaitingReread) return;
        if (_queue.First is { } first)
        {
            _queue.RemoveFirst();
            var chunk = first.Value;
            var data = chunk.Data;
            _writing = true;
            var offset = _offset;
            var expected = _chunks[_next].Id;
            Task.Run<object>(() =>
            {
                using var lease = chunk.Lease; // a pooled read goes back once written (or found wrong)
                if (_hasher is not null)
                {
                    _hasher.Mark();
                    if (_hasher.AppendChunk(data.Span) != expected)
                    {
                        _hasher.Rewind();
                        return new Mismatched();
                    }
                }
                else _sha!.AppendData(data.Span);
                RandomAccess.Write(_file, data.Span, offset);
                return new Written();
            }).PipeTo(_self, failure: e => new WriteFailed(e.GetBaseException().Message));
            _offset += data.Length;
            return;
        }
        if (!_ended || _next < _chunks.Count) return;
        _done = true;
        var hash = _hasher?.Complete() ?? ContentHash.FromBytes(_sha!.GetHashAndReset());
        _client.Tell(new DownloadComplete(_size, hash));
        _owner.SinkDone();
    }

    public void Dispose()
    {
        foreach (var queued in _queue) queued.Lease?.Dispose();
        _queue.Clear();
        _file.Dispose();
        if (!_writing) _sha?.Dispose();
    }
}
