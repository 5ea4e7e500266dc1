using Akka.Actor;
using ObjectStore.Actors.Chunking;
using ObjectStore.Actors.Protocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Transfer.Upload;

/// <summary>
/// A file handed over by a client on this machine (the open file itself, through the data plane's Unix
/// socket): the chunker reads it straight into its chunk buffers, up to the announced size. A file that
/// ends early (it changed during the put) fails the put; bytes appended meanwhile are not read.
/// </summary>
internal sealed class FileUploadSource : IUploadSource
{
    private const long ProgressEvery = 16 * 1024 * 1024;

    private readonly IUploadSourceOwner _owner;
    private readonly string _name;
    private readonly long _expectedSize;
    private readonly Microsoft.Win32.SafeHandles.SafeFileHandle _file;
    private long _reported;
    private bool _ended, _announced;

    public FileUploadSource(IUploadSourceOwner owner, IActorRef chunker, string name, long expectedSize, Microsoft.Win32.SafeHandles.SafeFileHandle file)
    {
        (_owner, _name, _expectedSize, _file) = (owner, name, expectedSize, file);
        chunker.Tell(new ChunkerActor.ReadFile(file, expectedSize));
    }

    public bool Handle(object message)
    {
        switch (message)
        {
            case ChunkerActor.FileProgress m:
                if (m.Bytes - _reported >= ProgressEvery || m.Bytes == _expectedSize)
                {
                    _reported = m.Bytes;
                    _owner.SourceProgress(m.Bytes);
                }
                return true;
            case ChunkerActor.FileEnded { Error: { } error }:
                _owner.SourceFailed(StoreErrorCode.Unavailable, $"put of {_name}: the node cannot read the handed-over file: {error}; nothing was stored");
                return true;
            case ChunkerActor.FileEnded m when m.Bytes != _expectedSize:
                _owner.SourceFailed(StoreErrorCode.InvalidRequest,
                    $"put of {_name}: the file ended after {m.Bytes} of the announced {_expectedSize} bytes (it changed during the put); nothing was stored");
                return true;
            case ChunkerActor.FileEnded:
                _ended = true;
                EndIfComplete();
                return true;
            case UploadComplete m:
                if (m.TotalBytes != _expectedSize)
                {
                    _owner.SourceFailed(StoreErrorCode.InvalidRequest, $"put of {_name}: client announced {m.TotalBytes} bytes after handing over a file of {_expectedSize}");
                    return true;
                }
                _announced = true;
                EndIfComplete();
                return true;
            default:
                return false;
        }
    }

    private void EndIfComplete()
    {
        if (_ended && _announced) _owner.SourceEnded(_expectedSize);
    }

    /// <summary>A read may still be running on the handle; the runtime's reference counting keeps it open until that read returns.</summary>
    public void Dispose() => _file.Dispose();
}
