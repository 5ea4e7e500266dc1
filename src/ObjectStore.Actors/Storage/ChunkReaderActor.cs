using Akka.Actor;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Storage;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.ChunkStorageProtocol;

namespace ObjectStore.Actors.Storage;

/// <summary>
/// Reads chunk files for gets and for other nodes, on <see cref="StoreSettings.ReadParallelism"/> threads
/// of its own (further reads wait in their queue). Every read re-hashes the chunk unless asked not to; a
/// chunk that does not match its id is moved to quarantine/ by the store and reported Corrupt, so it is
/// never served. Checked reads into pooled buffers (a get's, many at a time) that arrive together go in
/// pairs, hashed in one SHA-NI pass (<see cref="ChunkStore.ReadPooledPair"/>) where the machine has it:
/// a third less hashing, which pays once enough reads are in flight that a pair's two reads one after the
/// other do not starve the disk (docs/BENCHMARKS.md, 2026-12-02 evening).
/// </summary>
internal sealed class ChunkReaderActor : ReceiveActor
{
    private readonly ChunkStore _store;
    private readonly BlockingIoScheduler _io;
    private readonly ShaNiKernel? _kernel;
    /// <summary>A read that may pair with the next one in the mailbox; <see cref="AloneIfUnpaired"/> sends it alone.</summary>
    private (ReadChunk Read, IActorRef Sender)? _unpaired;

    private sealed record AloneIfUnpaired : ILocalMessage
    {
        public static readonly AloneIfUnpaired Instance = new();
    }

    /// <param name="kernel">Null: every read hashed on its own.</param>
    public ChunkReaderActor(ChunkStore store, int parallelism, ShaNiKernel? kernel)
    {
        _store = store;
        _kernel = kernel;
        _io = new BlockingIoScheduler(parallelism, "chunk reader");

        Receive<ReadChunk>(m =>
        {
            if (_kernel is null || !m.Verify || !m.Pooled) Start(m, Sender);
            else if (_unpaired is { } waiting)
            {
                _unpaired = null;
                StartPair(waiting, (m, Sender));
            }
            else
            {
                // Behind every read already in the mailbox: a burst pairs up, a lone read waits for nothing else.
                _unpaired = (m, Sender);
                Self.Tell(AloneIfUnpaired.Instance);
            }
        });
        Receive<ReadChunkThen>(m =>
        {
            var (store, sender) = (_store, Sender);
            _io.Run(() =>
            {
                object outcome;
                try
                {
                    outcome = Read(store, new ReadChunk(m.Id, m.Verify, Pooled: true));
                }
                catch (Exception e)
                {
                    // A failure Read does not word itself still goes to Then, as Start's PipeTo hands it to its asker.
                    outcome = Failure(m.Id, e);
                }
                m.Then(outcome);
                return 0;
            }).ContinueWith(t =>
            {
                // Only a bug in Then gets here: the asker still hears.
                if (t.IsFaulted) sender.Tell(Failure(m.Id, t.Exception!));
            }, TaskContinuationOptions.ExecuteSynchronously);
        });
        Receive<AloneIfUnpaired>(_ =>
        {
            if (_unpaired is not { } waiting) return;
            _unpaired = null;
            Start(waiting.Read, waiting.Sender);
        });
    }

    public static Props Props(ChunkStore store, int parallelism, ShaNiKernel? kernel) => ActorProps.Of(() => new ChunkReaderActor(store, parallelism, kernel));

    protected override void PostStop() => _io.Dispose();

    private void Start(ReadChunk m, IActorRef sender)
    {
        var store = _store;
        // The reply goes straight from the reading thread to the asker.
        _io.Run(() => Read(store, m)).PipeTo(sender, failure: e => Failure(m.Id, e));
    }

    private void StartPair((ReadChunk Read, IActorRef Sender) first, (ReadChunk Read, IActorRef Sender) second)
    {
        var (store, kernel) = (_store, _kernel!);
        _io.Run(() =>
        {
            var (a, b) = store.ReadPooledPair(first.Read.Id, second.Read.Id, kernel);
            first.Sender.Tell(Reply(first.Read, a));
            second.Sender.Tell(Reply(second.Read, b));
            return 0;
        }).ContinueWith(t =>
        {
            // Only a bug gets here (every read's failure is in its reply): both askers still hear.
            if (!t.IsFaulted) return;
            first.Sender.Tell(Failure(first.Read.Id, t.Exception!));
            second.Sender.Tell(Failure(second.Read.Id, t.Exception!));
        }, TaskContinuationOptions.ExecuteSynchronously);
    }

    private static StoreError Failure(ContentHash id, Exception e) =>
        new(StoreErrorCode.StorageFailure, $"cannot read chunk {id.ToShortString()}: {e.GetBaseException().Message}");

    private static object Reply(ReadChunk m, PooledRead read) =>
        read.Buffer is { } buffer ? new ChunkRead(m.Id, buffer.Memory, buffer) : Error(m, read.Error!);

    private static object Read(ChunkStore store, ReadChunk m)
    {
        try
        {
            if (!m.Pooled) return new ChunkRead(m.Id, store.Read(m.Id, m.Verify));
            var buffer = store.ReadPooled(m.Id, m.Verify);
            return new ChunkRead(m.Id, buffer.Memory, buffer);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Error(m, e);
        }
    }

    private static StoreError Error(ReadChunk m, Exception e) => e switch
    {
        ChunkCorruptException => new StoreError(StoreErrorCode.Corrupt, e.Message),
        ChunkMissingException => new StoreError(StoreErrorCode.NotFound, e.Message),
        _ => new StoreError(StoreErrorCode.StorageFailure, $"cannot read chunk {m.Id.ToShortString()}: {e.Message}"),
    };
}
