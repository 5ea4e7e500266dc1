using Akka.Actor;
using ObjectStore.Core.Chunking;

namespace ObjectStore.Actors.Chunking;

/// <summary>
/// A file read by the chunker straight into the chunk being built (<see cref="ChunkSplitter.Reserve"/>):
/// one read at a time, 256 KiB at most (the bytes past a cut move to the next chunk's buffer, so reads
/// stay short), up to the announced length. Progress and the end go to whoever asked for the file.
/// </summary>
internal sealed class FileIntoChunks(ChunkSplitter splitter, IActorRef chunker)
{
    private const int ReadSize = 256 * 1024;

    public sealed record Read(int Count, string? Error) : ILocalMessage;

    private Microsoft.Win32.SafeHandles.SafeFileHandle? _file;
    private long _length, _offset;
    private IActorRef _asker = ActorRefs.Nobody;

    /// <summary>A read is running into reserved space of the splitter.</summary>
    public bool Reading { get; private set; }

    public void Start(Microsoft.Win32.SafeHandles.SafeFileHandle file, long length, IActorRef asker) =>
        (_file, _length, _offset, _asker) = (file, length, 0, asker);

    /// <summary>Starts the next read unless one runs, or ends the file when it is all read.</summary>
    public void ReadMore()
    {
        if (_file is null || Reading) return;
        if (_offset == _length)
        {
            _file = null;
            _asker.Tell(new ChunkerActor.FileEnded(_offset, null));
            return;
        }
        var space = splitter.Reserve((int)Math.Min(ReadSize, _length - _offset));
        Reading = true;
        Task<int> read;
        try
        {
            read = RandomAccess.ReadAsync(_file, space, _offset).AsTask();
        }
        catch (Exception e) when (e is IOException or NotSupportedException or UnauthorizedAccessException or ObjectDisposedException)
        {
            read = Task.FromException<int>(e);
        }
        read.PipeTo(chunker, success: count => new Read(count, null), failure: e => new Read(0, e.GetBaseException().Message));
    }

    /// <summary>A read finished: its bytes join the chunk being built (completed chunks go to <paramref name="emit"/>).</summary>
    public void Completed(Read m, Action<ChunkBuffer> emit)
    {
        Reading = false;
        if (_file is null) return;
        if (m.Error is not null || m.Count == 0)
        {
            _file = null;
            _asker.Tell(new ChunkerActor.FileEnded(_offset, m.Error));
            return;
        }
        splitter.Commit(m.Count, emit);
        _offset += m.Count;
        _asker.Tell(new ChunkerActor.FileProgress(_offset));
    }
}
