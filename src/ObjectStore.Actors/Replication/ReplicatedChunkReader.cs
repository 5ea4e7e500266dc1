using Akka.Actor;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.ChunkStorageProtocol;

namespace ObjectStore.Actors.Replication;

/// <summary>
/// The read path of one get: answers ReadChunk like the chunk reader does (ChunkRead or StoreError), every
/// chunk checked against its id (whatever the ReadChunk says), from this node's disk when it has the chunk
/// and it verifies, else from the chunk's other holders in
/// placement order (owners first, then hand-off nodes). A replica that is down, missing the chunk or
/// corrupt (the holder quarantines it) is skipped and the next one tried. When reading for a get, an owner
/// found missing the chunk or holding it corrupt gets its copy back through the repair queue (read repair).
/// </summary>
public sealed class ReplicatedChunkReader : ReceiveActor
{
    private readonly StoreSettings _settings;
    private readonly IActorRef _reader;
    private readonly ClusterRing _ring;
    private readonly IReadOnlyDictionary<ContentHash, int> _lengths;
    private readonly Func<ContentHash, ObjectManifest?> _repairFor;
    private readonly bool _forGet;

    private sealed class Read(ContentHash id, IActorRef replyTo, Queue<RingMember> next, bool pooled = false)
    {
        /// <summary>Whether this node's copy may come in a pooled buffer (the asker lets go of it).</summary>
        public bool Pooled { get; } = pooled;
        public ContentHash Id { get; } = id;
        public IActorRef ReplyTo { get; } = replyTo;
        public Queue<RingMember> Next { get; } = next;
        public List<(RingMember Node, StoreError Error)> Failures { get; } = [];
    }

    private sealed record LocalRead(long RequestId, object Reply) : ILocalMessage;


    private readonly Dictionary<long, Read> _reads = new();
    private long _nextRequest;

    /// <param name="repairFor">The version being read, for read repair; null when the reader serves a repair itself.</param>
    /// <param name="repairForChunk">For a reader of several objects' chunks (a batch of small gets): the version each chunk is read for.</param>
    public ReplicatedChunkReader(StoreSettings settings, IActorRef reader, ClusterRing ring, IReadOnlyDictionary<ContentHash, int> lengths,
        ObjectManifest? repairFor = null, IReadOnlyDictionary<ContentHash, ObjectManifest>? repairForChunk = null)
    {
        _repairFor = id => repairFor ?? repairForChunk?.GetValueOrDefault(id);
        _forGet = repairFor is not null || repairForChunk is not null;
        _settings = settings;
        _reader = reader;
        _ring = ring;
        _lengths = lengths;

        Receive<ReadChunk>(m =>
        {
            // A get's read is foreground work; a repair's own reads are not.
            if (_forGet) Repair.ForegroundActivity.Of(Context.System).Touch();
            // Nearest first: this node's disk, then the chunk's owners and hand-off nodes in order.
            var order = new Queue<RingMember>(_ring.Candidates(m.Id).Where(n => n.Reachable).OrderBy(n => n.NodeId == _ring.SelfId ? 0 : 1));
            var id = ++_nextRequest;
            _reads[id] = new Read(m.Id, Sender, order, m.Pooled);
            TryNext(id);
        });
        Receive<LocalRead>(m =>
        {
            if (m.Reply is ChunkRead read) Done(m.RequestId, read);
            else Failed(m.RequestId, _ring.Find(_ring.SelfId)!, m.Reply as StoreError
                ?? new StoreError(StoreErrorCode.Unavailable, $"storage did not answer ({(m.Reply as Exception)?.GetType().Name})"));
        });
        Receive<ChunkFetchActor.Fetched>(m =>
        {
            if (!_reads.TryGetValue(m.RequestId, out var r))
            {
                m.Body?.Dispose();
                return;
            }
            // The fetched bytes are in a pooled buffer: lent on to an asker that gives it back, else copied out.
            if (m.Body is { } body)
            {
                var leased = new ChunkRead(r.Id, body.Memory, body);
                Done(m.RequestId, r.Pooled ? leased : new ChunkRead(r.Id, leased.Detach()));
            }
            else Failed(m.RequestId, m.Source, m.Failure!);
        });
    }

    public static Props Props(StoreSettings settings, IActorRef reader, ClusterRing ring, IReadOnlyDictionary<ContentHash, int> lengths,
        ObjectManifest? repairFor = null, IReadOnlyDictionary<ContentHash, ObjectManifest>? repairForChunk = null) =>
        ActorProps.Of(() => new ReplicatedChunkReader(settings, reader, ring, lengths, repairFor, repairForChunk));

    private void TryNext(long requestId)
    {
        var r = _reads[requestId];
        if (!r.Next.TryDequeue(out var node))
        {
            _reads.Remove(requestId);
            r.ReplyTo.Tell(FinalError(r));
            return;
        }
        if (node.NodeId == _ring.SelfId)
        {
            _reader.Ask<object>(new ReadChunk(r.Id, Verify: true, r.Pooled), _settings.RequestTimeout)
                .PipeTo(Self, success: reply => new LocalRead(requestId, reply), failure: e => new LocalRead(requestId, e));
            return;
        }
        Context.ActorOf(ChunkFetchActor.Props(requestId, r.Id, _lengths.GetValueOrDefault(r.Id), node, _settings.Replication.TransferTimeout,
            _settings.Chunking.Kernel));
    }

    private void Done(long requestId, ChunkRead read)
    {
        if (_reads.Remove(requestId, out var r)) r.ReplyTo.Tell(read);
        else read.Lease?.Dispose();
    }

    private void Failed(long requestId, RingMember node, StoreError error)
    {
        if (!_reads.TryGetValue(requestId, out var r)) return;
        r.Failures.Add((node, error));
        if (_repairFor(r.Id) is { } version && error.Code is StoreErrorCode.Corrupt or StoreErrorCode.NotFound
            && _ring.OwnersOf(r.Id, _settings.Replication.Factor).Contains(node.NodeId))
            Context.ActorSelection($"/user/{Repair.RepairActor.Name}").Tell(new Repair.RepairProtocol.QueueRepairs([
                new RepairEntry(version.VersionId, node.NodeId, version.Bucket, version.Key, version.Size,
                    $"read repair: chunk {r.Id.ToShortString()} {(error.Code == StoreErrorCode.Corrupt ? "corrupt" : "missing")} there")]));
        TryNext(requestId);
    }

    /// <summary>One failure is passed on as it is; several are summed up, corruption first (it is the one an operator must see).</summary>
    private StoreError FinalError(Read r)
    {
        if (r.Failures.Count == 0)
            return new StoreError(StoreErrorCode.Unavailable, $"chunk {r.Id.ToShortString()}: no node that may hold it is reachable");
        if (r.Failures.Count == 1) return r.Failures[0].Error;
        var code = r.Failures.Any(f => f.Error.Code == StoreErrorCode.Corrupt) ? StoreErrorCode.Corrupt
            : r.Failures.All(f => f.Error.Code == StoreErrorCode.NotFound) ? StoreErrorCode.NotFound
            : StoreErrorCode.Unavailable;
        return new StoreError(code, $"chunk {r.Id.ToShortString()}: no healthy replica ({string.Join("; ", r.Failures.Select(f => $"{f.Node.NodeId}: {f.Error.Message}"))})");
    }
}
