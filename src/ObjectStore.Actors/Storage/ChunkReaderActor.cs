using Akka.Actor;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Storage;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.ChunkStorageProtocol;

namespace ObjectStore.Actors.Storage;

/// <summary>
/// Reads chunk files for gets and for other nodes, on storage threads of its own (at most
/// <see cref="StoreSettings.IoParallelism"/> at once). Every read re-hashes the chunk; a chunk that does
/// not match its id is moved to quarantine/ by the store and reported Corrupt, so it is never served.
/// </summary>
internal sealed class ChunkReaderActor : ReceiveActor
{
    private readonly ChunkStore _store;
    private readonly int _parallelism;
    private readonly BlockingIoScheduler _io;
    private readonly Queue<(ReadChunk Request, IActorRef ReplyTo)> _queued = new();
    private int _reading;

    private sealed record Done(IActorRef ReplyTo, object Reply) : ILocalMessage;

    public ChunkReaderActor(ChunkStore store, int parallelism)
    {
        _store = store;
        _parallelism = parallelism;
        _io = new BlockingIoScheduler(parallelism, "chunk reader");

        Receive<ReadChunk>(m =>
        {
            _queued.Enqueue((m, Sender));
            StartReads();
        });
        Receive<Done>(m =>
        {
            _reading--;
            m.ReplyTo.Tell(m.Reply);
            StartReads();
        });
    }

    public static Props Props(ChunkStore store, int parallelism) => Akka.Actor.Props.Create(() => new ChunkReaderActor(store, parallelism));

    protected override void PostStop() => _io.Dispose();

    private void StartReads()
    {
        while (_reading < _parallelism && _queued.TryDequeue(out var next))
        {
            _reading++;
            var (m, replyTo) = next;
            var store = _store;
            _io.Run<object>(() => new Done(replyTo, Read(store, m))).PipeTo(Self,
                failure: e => new Done(replyTo, new StoreError(StoreErrorCode.StorageFailure, $"cannot read chunk {m.Id.ToShortString()}: {e.GetBaseException().Message}")));
        }
    }

    private static object Read(ChunkStore store, ReadChunk m)
    {
        try
        {
            return new ChunkRead(m.Id, store.Read(m.Id));
        }
        catch (ChunkCorruptException e)
        {
            return new StoreError(StoreErrorCode.Corrupt, e.Message);
        }
        catch (ChunkMissingException e)
        {
            return new StoreError(StoreErrorCode.NotFound, e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new StoreError(StoreErrorCode.StorageFailure, $"cannot read chunk {m.Id.ToShortString()}: {e.Message}");
        }
    }
}
