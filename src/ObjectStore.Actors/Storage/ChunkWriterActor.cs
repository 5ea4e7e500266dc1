using Akka.Actor;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Storage;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;
using static ObjectStore.Actors.Storage.ChunkStorageProtocol;

namespace ObjectStore.Actors.Storage;

/// <summary>
/// Writes chunk files and makes them durable in group commits: each chunk goes to a temp file on one of
/// <see cref="StoreSettings.IoParallelism"/> writer threads (the rest wait in their queue), and one commit at a time
/// flushes the file system for every chunk written since the last and renames them into place. Being the
/// one that knows which chunks are still waiting for a commit, it also answers whether a chunk is durable
/// here (claims, <see cref="WhichChunks"/>). A child of the chunk keeper, which pins each chunk for its put
/// before passing the request on; replies go to the original sender.
/// </summary>
internal sealed class ChunkWriterActor : ReceiveActor
{
    private readonly ChunkStore _store;
    private readonly string _nodeId;
    // Writes on threads of their own, the group commit on one of its own: a commit never waits behind writes.
    private readonly BlockingIoScheduler _writes;
    private readonly BlockingIoScheduler _commits = new(1, "group commit");

    private readonly List<(IActorRef ReplyTo, ChunkStored Stored)> _awaitingCommit = [];
    private readonly List<ChunkStore.PendingChunk> _toCommit = [];
    private readonly HashSet<ContentHash> _uncommitted = [];
    private bool _commitRunning;

    private sealed record Written(IActorRef ReplyTo, ContentHash Id, int Length, ChunkStore.PendingChunk? Pending, string? Error) : ILocalMessage;
    private sealed record GroupCommitted(List<(IActorRef ReplyTo, ChunkStored Stored)> Waiting, List<ChunkStore.PendingChunk> Chunks, string? Error) : ILocalMessage;

    public ChunkWriterActor(ChunkStore store, string nodeId, int parallelism)
    {
        _store = store;
        _nodeId = nodeId;
        _writes = new BlockingIoScheduler(parallelism, "chunk writer");

        Receive<StoreChunk>(Write);
        Receive<Written>(HandleWritten);
        Receive<GroupCommitted>(HandleGroupCommitted);
        Receive<ClaimChunk>(m => Sender.Tell(new ChunkClaim(m.Id, IsDurable(m.Id))));
        Receive<WhichChunks>(m => Sender.Tell(new ChunksHeld(_nodeId, m.Ids.Distinct().Where(IsDurable).ToList())));
    }

    public static Props Props(ChunkStore store, string nodeId, int parallelism) =>
        ActorProps.Of(() => new ChunkWriterActor(store, nodeId, parallelism));

    /// <summary>Writes still queued run to their end (and release their buffers) after this.</summary>
    protected override void PostStop()
    {
        _writes.Dispose();
        _commits.Dispose();
    }

    private bool IsDurable(ContentHash id) => !_uncommitted.Contains(id) && _store.Contains(id);

    private void Write(StoreChunk m)
    {
        var replyTo = Sender;
        var store = _store;
        _writes.Run<object>(() =>
        {
            using (m.Data)
            {
                try
                {
                    var pending = store.WriteTemp(m.Id, m.Data);
                    if (pending is not null) CrashFailpoint.ChunkWritten();
                    return new Written(replyTo, m.Id, m.Data.Length, pending, null);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    return new Written(replyTo, m.Id, m.Data.Length, null, e.Message);
                }
            }
        }).PipeTo(Self, failure: e => new Written(replyTo, m.Id, 0, null, e.GetBaseException().Message));
    }

    /// <summary>
    /// A chunk is in a temp file; it becomes durable and visible in the next group commit. A chunk found
    /// already present while a commit of it may still be running waits for the next commit, so no put is
    /// ever acknowledged on a chunk that a power cut could take away.
    /// </summary>
    private void HandleWritten(Written m)
    {
        if (m.Error is not null)
        {
            m.ReplyTo.Tell(new ChunkStoreFailed(m.Id, $"cannot store chunk {m.Id.ToShortString()}: {m.Error}"));
            return;
        }
        var reply = new ChunkStored(m.Id, m.Length, m.Pending is not null);
        if (m.Pending is null) Metrics.StoreMetrics.ChunksDeduplicated.Add(1);
        if (m.Pending is null && !_uncommitted.Contains(m.Id))
        {
            m.ReplyTo.Tell(reply);
            return;
        }
        if (m.Pending is not null)
        {
            _uncommitted.Add(m.Id);
            _toCommit.Add(m.Pending);
        }
        _awaitingCommit.Add((m.ReplyTo, reply));
        StartGroupCommit();
    }

    private void StartGroupCommit()
    {
        if (_commitRunning || _awaitingCommit.Count == 0) return;
        _commitRunning = true;
        var waiting = _awaitingCommit.ToList();
        var chunks = _toCommit.ToList();
        _awaitingCommit.Clear();
        _toCommit.Clear();
        var store = _store;
        _commits.Run<object>(() =>
        {
            try
            {
                store.MakeDurable(chunks);
                return new GroupCommitted(waiting, chunks, null);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return new GroupCommitted(waiting, chunks, e.Message);
            }
        }).PipeTo(Self, failure: e => new GroupCommitted(waiting, chunks, e.GetBaseException().Message));
    }

    private void HandleGroupCommitted(GroupCommitted m)
    {
        _commitRunning = false;
        foreach (var chunk in m.Chunks) _uncommitted.Remove(chunk.Id);
        // A put that failed while its chunks were being committed has let go of them already: the keeper
        // collects whichever of these nothing references or pins any more.
        if (m.Error is null && m.Chunks.Count > 0) Context.Parent.Tell(new CollectChunks(m.Chunks.Select(c => c.Id).ToList()));
        if (m.Error is null) Metrics.StoreMetrics.ChunksStored.Add(m.Chunks.Count);
        foreach (var (replyTo, stored) in m.Waiting)
        {
            replyTo.Tell(m.Error is null
                ? stored
                : new ChunkStoreFailed(stored.Id, $"cannot store chunk {stored.Id.ToShortString()}: {m.Error}"));
        }
        StartGroupCommit();
    }
}
