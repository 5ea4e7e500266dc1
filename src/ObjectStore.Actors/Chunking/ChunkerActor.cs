using System.Security.Cryptography;
using System.Threading.Channels;
using Akka.Actor;
using ObjectStore.Actors.Storage;
using ObjectStore.Core.Chunking;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;
using static ObjectStore.Actors.Storage.StorageProtocol;

namespace ObjectStore.Actors.Chunking;

/// <summary>
/// Splits one upload's byte stream into chunks and has each stored. Three things overlap: cut-point
/// search on this actor, SHA-256 of finished chunks on pool threads, SHA-256 of the whole object on
/// one more task. Back-pressure: a piece of input is accepted only while fewer than
/// <c>chunksInFlight</c> chunks wait to be durable; the rest wait in the stash, so the sender's
/// window stops moving.
/// </summary>
public sealed class ChunkerActor : ReceiveActor, IWithStash
{
    /// <summary>Bytes of the object, in order. Answered with <see cref="Accepted"/> once taken in.</summary>
    public sealed record Bytes(long Sequence, ReadOnlyMemory<byte> Data) : ILocalMessage;
    public sealed record Accepted(long Sequence) : ILocalMessage;
    /// <summary>No more bytes. Answered with <see cref="ChunkingDone"/> or <see cref="ChunkingFailed"/>.</summary>
    public sealed record EndOfData : ILocalMessage
    {
        public static readonly EndOfData Instance = new();
    }
    public sealed record ChunkingDone(IReadOnlyList<ChunkRef> Chunks, long Size, ContentHash Sha256, long NewChunkBytes) : ILocalMessage;
    public sealed record ChunkingFailed(string Reason) : ILocalMessage;

    private sealed record Hashed(int Index, ContentHash Id, ChunkBuffer Data) : ILocalMessage;
    private sealed record ObjectHashed(ContentHash Sha256) : ILocalMessage;

    private readonly IActorRef _storage;
    private readonly string _uploadId;
    private readonly int _chunksInFlight;
    private readonly ChunkSplitter _splitter;
    private readonly List<ChunkRef?> _chunks = [];
    private readonly Channel<ReadOnlyMemory<byte>> _objectHashInput =
        Channel.CreateBounded<ReadOnlyMemory<byte>>(new BoundedChannelOptions(1024) { SingleReader = true, SingleWriter = true });
    private readonly Dictionary<ContentHash, List<int>> _waitingForStore = new();
    private int _inFlight;
    private long _newBytes;
    private IActorRef? _finishTo;
    private ContentHash? _objectHash;
    private bool _failed;

    public IStash Stash { get; set; } = null!;

    public ChunkerActor(IChunker chunker, IActorRef storage, string uploadId, int chunksInFlight)
    {
        _storage = storage;
        _uploadId = uploadId;
        _chunksInFlight = chunksInFlight;
        _splitter = new ChunkSplitter(chunker);

        Receive<Bytes>(HandleBytes);
        Receive<EndOfData>(_ => HandleEnd());
        Receive<Hashed>(HandleHashed);
        Receive<ChunkStored>(HandleStored);
        Receive<ChunkStoreFailed>(m => Fail(m.Reason));
        Receive<ObjectHashed>(m =>
        {
            _objectHash = m.Sha256;
            TryFinish();
        });
    }

    public static Props Props(IChunker chunker, IActorRef storage, string uploadId, int chunksInFlight) =>
        Akka.Actor.Props.Create(() => new ChunkerActor(chunker, storage, uploadId, chunksInFlight));

    protected override void PreStart()
    {
        var reader = _objectHashInput.Reader;
        var self = Self;
        Task.Run(async () =>
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await foreach (var piece in reader.ReadAllAsync())
                sha.AppendData(piece.Span);
            return (object)new ObjectHashed(ContentHash.FromBytes(sha.GetHashAndReset()));
        }).PipeTo(self);
    }

    protected override void PostStop()
    {
        _objectHashInput.Writer.TryComplete();
        _splitter.Dispose();
    }

    private void HandleBytes(Bytes m)
    {
        if (_failed) return;
        if (_inFlight >= _chunksInFlight)
        {
            Stash.Stash();
            return;
        }
        if (!_objectHashInput.Writer.TryWrite(m.Data))
        {
            // The object hasher is a thousand pieces behind (it hashes faster than any network feeds it,
            // so this is rare): wait for it rather than hold ever more input in memory.
            _objectHashInput.Writer.WriteAsync(m.Data).AsTask().GetAwaiter().GetResult();
        }
        _splitter.Write(m.Data.Span, EmitChunk);
        Sender.Tell(new Accepted(m.Sequence));
    }

    private void EmitChunk(ChunkBuffer chunk)
    {
        var index = _chunks.Count;
        _chunks.Add(null);
        _inFlight++;
        Task.Run<object>(() => new Hashed(index, ContentHash.Compute(chunk.Span), chunk)).PipeTo(Self);
    }

    private void HandleHashed(Hashed m)
    {
        if (_failed)
        {
            m.Data.Dispose();
            return;
        }
        _chunks[m.Index] = new ChunkRef(m.Id, m.Data.Length);
        if (!_waitingForStore.TryGetValue(m.Id, out var indexes)) _waitingForStore[m.Id] = indexes = [];
        indexes.Add(m.Index);
        _storage.Tell(new StoreChunk(m.Id, m.Data, _uploadId));
    }

    private void HandleStored(ChunkStored m)
    {
        if (!_waitingForStore.TryGetValue(m.Id, out var indexes)) return;
        indexes.RemoveAt(0);
        if (indexes.Count == 0) _waitingForStore.Remove(m.Id);
        if (m.Written) _newBytes += m.Length;
        _inFlight--;
        // Everything waiting goes back to the mailbox in order; what still does not fit is stashed again.
        Stash.UnstashAll();
        TryFinish();
    }

    private void HandleEnd()
    {
        if (_failed) return;
        if (_inFlight >= _chunksInFlight)
        {
            Stash.Stash();
            return;
        }
        _finishTo = Sender;
        var last = _splitter.Complete();
        if (last is not null) EmitChunk(last);
        _objectHashInput.Writer.TryComplete();
        TryFinish();
    }

    private void TryFinish()
    {
        if (_failed || _finishTo is null || _inFlight > 0 || _objectHash is null) return;
        _finishTo.Tell(new ChunkingDone(_chunks.Select(c => c!.Value).ToList(), _splitter.BytesIn, _objectHash.Value, _newBytes));
        _finishTo = null;
    }

    private void Fail(string reason)
    {
        if (_failed) return;
        _failed = true;
        Context.Parent.Tell(new ChunkingFailed(reason));
    }
}
