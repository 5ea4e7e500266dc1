using Akka.Actor;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Storage;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.ChunkStorageProtocol;

namespace ObjectStore.Actors.Storage;

/// <summary>
/// Reads chunk files for gets and for other nodes, on <see cref="StoreSettings.ReadParallelism"/> threads
/// of its own (further reads wait in their queue). Every read re-hashes the chunk; a chunk that does
/// not match its id is moved to quarantine/ by the store and reported Corrupt, so it is never served.
/// </summary>
internal sealed class ChunkReaderActor : ReceiveActor
{
    private readonly ChunkStore _store;
    private readonly BlockingIoScheduler _io;

    public ChunkReaderActor(ChunkStore store, int parallelism)
    {
        _store = store;
        _io = new BlockingIoScheduler(parallelism, "chunk reader");

        Receive<ReadChunk>(m =>
        {
            var store = _store;
            // The reply goes straight from the reading thread to the asker.
            _io.Run(() => Read(store, m)).PipeTo(Sender,
                failure: e => new StoreError(StoreErrorCode.StorageFailure, $"cannot read chunk {m.Id.ToShortString()}: {e.GetBaseException().Message}"));
        });
    }

    public static Props Props(ChunkStore store, int parallelism) => ActorProps.Of(() => new ChunkReaderActor(store, parallelism));

    protected override void PostStop() => _io.Dispose();

    private static object Read(ChunkStore store, ReadChunk m)
    {
        try
        {
            if (!m.Pooled) return new ChunkRead(m.Id, store.Read(m.Id, m.Verify));
            var buffer = store.ReadPooled(m.Id, m.Verify);
            return new ChunkRead(m.Id, buffer.Memory, buffer);
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
