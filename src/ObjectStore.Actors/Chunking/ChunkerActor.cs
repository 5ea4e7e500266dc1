using Akka.Actor;
using Akka.Event;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Chunking;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;
using static ObjectStore.Actors.Storage.ChunkStorageProtocol;

namespace ObjectStore.Actors.Chunking;

/// <summary>
/// Splits one put's bytes into chunks and has each stored. The bytes come pushed (<see cref="Bytes"/>,
/// acknowledged with <see cref="Accepted"/> once copied into the chunk being built) or from a file it reads
/// itself straight into its chunk buffers (<see cref="ReadFile"/>). Cut points are found here, hashing runs
/// elsewhere (<see cref="IChunkHashing"/>), and each hashed chunk goes to storage (StoreChunk).
/// Back-pressure: input is taken only while fewer than <c>chunksInMemory</c> chunks are held in memory and
/// fewer than <c>chunksNotDurable</c> wait for storage to make them durable; the rest waits in the stash.
/// Two bounds because they guard different things: memory, and how much page cache one put may have
/// waiting on a single flush (a deep window lets the disk write in large batches, as `cp` and `sync` do).
/// A chunk counts as in memory until every holder of its buffer has let go (the buffer tells).
/// </summary>
public sealed class ChunkerActor : ReceiveActor, IWithStash
{
    /// <summary>Bytes of the object, in order. Answered with <see cref="Accepted"/> once copied in.</summary>
    public sealed record Bytes(long Sequence, ReadOnlyMemory<byte> Data) : ILocalMessage;
    public sealed record Accepted(long Sequence) : ILocalMessage;
    /// <summary>No more bytes. Answered with <see cref="ChunkingDone"/> or <see cref="ChunkingFailed"/>.</summary>
    public sealed record EndOfData : ILocalMessage
    {
        public static readonly EndOfData Instance = new();
    }
    public sealed record ChunkingDone(IReadOnlyList<ChunkRef> Chunks, long Size, ContentHash Sha256, long NewChunkBytes) : ILocalMessage;
    /// <summary>
    /// Read the object from this file, <paramref name="Length"/> bytes from its start, straight into the
    /// chunk buffers (no copy). Answered with <see cref="FileProgress"/> as it goes and one <see cref="FileEnded"/>.
    /// </summary>
    public sealed record ReadFile(Microsoft.Win32.SafeHandles.SafeFileHandle File, long Length) : ILocalMessage;
    public sealed record FileProgress(long Bytes) : ILocalMessage;
    /// <summary>Reading stopped after <paramref name="Bytes"/>: all of it, or fewer (the file ended), or an error.</summary>
    public sealed record FileEnded(long Bytes, string? Error) : ILocalMessage;
    public sealed record ChunkingFailed(string Reason, StoreErrorCode Code) : ILocalMessage;

    private sealed record Hashed(int Index, ContentHash Id, ChunkBuffer Data) : ILocalMessage;
    private sealed record BufferReleased : ILocalMessage, IDeadLetterSuppression
    {
        public static readonly BufferReleased Instance = new();
    }

    private readonly IActorRef _storage;
    private readonly string _uploadId;
    private readonly int _chunksInMemory;
    private readonly int _chunksNotDurable;
    private readonly ChunkSplitter _splitter;
    private readonly IChunkHashing _hashing;
    private readonly FileIntoChunks _file;
    private readonly List<ChunkRef?> _chunks = [];
    private readonly Dictionary<ContentHash, int> _waitingForStore = new();
    private int _inMemory;
    private int _notDurable;
    private long _newBytes;
    private IActorRef? _finishTo;
    private bool _failed;

    public IStash Stash { get; set; } = null!;

    public ChunkerActor(IChunker chunker, IActorRef storage, string uploadId, int chunksInMemory, int chunksNotDurable, bool shaNi)
    {
        var self = Self;
        _hashing = ChunkHashing.Create(shaNi, (index, id, chunk) => self.Tell(new Hashed(index, id, chunk)), e => self.Tell(new Status.Failure(e)));
        _storage = storage;
        _uploadId = uploadId;
        _chunksInMemory = chunksInMemory;
        _chunksNotDurable = Math.Max(chunksInMemory, chunksNotDurable);
        _splitter = new ChunkSplitter(chunker);
        _file = new FileIntoChunks(_splitter, self);

        Receive<Bytes>(HandleBytes);
        Receive<EndOfData>(_ => HandleEnd());
        Receive<Hashed>(HandleHashed);
        Receive<BufferReleased>(_ =>
        {
            _inMemory--;
            Resume();
        });
        Receive<ReadFile>(m =>
        {
            _file.Start(m.File, m.Length, Sender);
            ReadMore();
        });
        Receive<FileIntoChunks.Read>(m =>
        {
            if (_failed) return;
            _file.Completed(m, EmitChunk);
            ReadMore();
        });
        Receive<ChunkStored>(HandleStored);
        Receive<ChunkStoreFailed>(m => Fail(m.Reason, m.Code));
        Receive<Status.Failure>(m => Fail($"hashing a chunk failed: {m.Cause.GetBaseException().Message}", StoreErrorCode.StorageFailure));
    }

    public static Props Props(IChunker chunker, IActorRef storage, string uploadId, int chunksInMemory, int chunksNotDurable = 0, bool shaNi = true) =>
        ActorProps.Of(() => new ChunkerActor(chunker, storage, uploadId, chunksInMemory, chunksNotDurable, shaNi));

    private bool Full => _inMemory >= _chunksInMemory || _notDurable >= _chunksNotDurable;

    protected override void PostStop()
    {
        if (_file.Reading) _splitter.Abandon();
        _splitter.Dispose();
        _hashing.Dispose();
    }

    private void HandleBytes(Bytes m)
    {
        if (_failed) return;
        if (Full)
        {
            Stash.Stash();
            return;
        }
        _splitter.Write(m.Data.Span, EmitChunk);
        Sender.Tell(new Accepted(m.Sequence));
    }

    private void EmitChunk(ChunkBuffer chunk)
    {
        var index = _chunks.Count;
        _chunks.Add(null);
        _notDurable++;
        _inMemory++;
        var self = Self;
        chunk.WhenReleased(() => self.Tell(BufferReleased.Instance));
        _hashing.Add(index, chunk);
    }

    private void HandleHashed(Hashed m)
    {
        if (_failed)
        {
            m.Data.Dispose();
            return;
        }
        _chunks[m.Index] = new ChunkRef(m.Id, m.Data.Length);
        _waitingForStore[m.Id] = _waitingForStore.GetValueOrDefault(m.Id) + 1;
        _storage.Tell(new StoreChunk(m.Id, m.Data, _uploadId));
    }

    private void HandleStored(ChunkStored m)
    {
        if (!_waitingForStore.TryGetValue(m.Id, out var count)) return;
        if (count == 1) _waitingForStore.Remove(m.Id);
        else _waitingForStore[m.Id] = count - 1;
        if (m.Written) _newBytes += m.Length;
        _notDurable--;
        Resume();
        TryFinish();
    }

    /// <summary>Room again: everything waiting goes back to the mailbox in order (what still does not fit is stashed again).</summary>
    private void Resume()
    {
        Stash.UnstashAll();
        ReadMore();
    }

    private void ReadMore()
    {
        if (!_failed && !Full) _file.ReadMore();
    }

    private void HandleEnd()
    {
        if (_failed) return;
        if (Full)
        {
            Stash.Stash();
            return;
        }
        _finishTo = Sender;
        var last = _splitter.Complete();
        if (last is not null) EmitChunk(last);
        TryFinish();
    }

    private void TryFinish()
    {
        // Every chunk durable implies every chunk went through the object hash before it was stored.
        if (_failed || _finishTo is null || _notDurable > 0) return;
        _finishTo.Tell(new ChunkingDone(_chunks.Select(c => c!.Value).ToList(), _splitter.BytesIn, _hashing.Complete(), _newBytes));
        _finishTo = null;
    }

    private void Fail(string reason, StoreErrorCode code)
    {
        if (_failed) return;
        _failed = true;
        Context.Parent.Tell(new ChunkingFailed(reason, code));
    }
}
