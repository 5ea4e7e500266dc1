using Akka.Actor;
using Akka.Event;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;
using ObjectStore.Core.Storage;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.ChunkStorageProtocol;
using static ObjectStore.Actors.Storage.IndexProtocol;

namespace ObjectStore.Actors.Replication.Repair;

/// <summary>
/// Re-reads every chunk file at rest (<c>/user/scrubber</c>), one after the other at <see cref="RepairSettings.ScrubRate"/>
/// bytes per second, through the chunk reader, which re-hashes each and moves a corrupt one to quarantine/.
/// A corrupt chunk is then queued for repair onto this node (a healthy copy is fetched from another holder).
/// A pass starts every scrub-interval (or at once after a pass that took longer), the first one interval
/// after the node starts, so that a restart loop does not re-read the disk over and over.
/// </summary>
public sealed class ScrubberActor : ReceiveActor, IWithTimers
{
    public const string Name = "scrubber";

    public sealed record StartPass : ILocalMessage
    {
        public static readonly StartPass Instance = new();
    }

    public sealed record GetScrubStatus : ILocalMessage
    {
        public static readonly GetScrubStatus Instance = new();
    }

    /// <param name="PassStarted">When the pass running (or the last one) started; default: none yet.</param>
    /// <param name="LastPassEnded">When the last complete pass ended; default: none yet.</param>
    public sealed record ScrubStatus(bool Running, DateTimeOffset PassStarted, DateTimeOffset LastPassEnded, long Checked, long Left, long Bytes,
        long CorruptFound, double LastPassBytesPerSecond) : ILocalMessage;

    private sealed record Next : ILocalMessage
    {
        public static readonly Next Instance = new();
    }

    private sealed record Checked(ContentHash Id, long Bytes, object Reply) : ILocalMessage;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly StoreSettings _settings;
    private readonly ChunkStore _store;
    private readonly IActorRef _reader;
    private readonly IActorRef _index;
    private readonly string _nodeId;
    private readonly ByteRate _rate;
    private readonly Queue<ContentHash> _todo = new();
    private bool _running;
    private DateTimeOffset _passStarted, _lastPassEnded;
    private long _checked, _bytes, _corrupt;
    private double _lastRate;

    public ITimerScheduler Timers { get; set; } = null!;

    public ScrubberActor(StoreSettings settings, ChunkStore store, IActorRef reader, IActorRef index, string nodeId)
    {
        _settings = settings;
        _store = store;
        _reader = reader;
        _index = index;
        _nodeId = nodeId;
        // A tenth of a second's worth at most in the bucket: the rate holds over short spans too.
        _rate = new ByteRate(settings.Repair.ScrubRate, TimeSpan.FromMilliseconds(100));

        Receive<StartPass>(_ => Start());
        Receive<Next>(_ => CheckNext());
        Receive<Checked>(HandleChecked);
        Receive<GetScrubStatus>(_ => Sender.Tell(new ScrubStatus(_running, _passStarted, _lastPassEnded, _checked, _todo.Count, _bytes, _corrupt, _lastRate)));
        Receive<VersionsWithChunk>(m =>
        {
            if (m.Versions.Count == 0) return; // nothing here references it any more: nothing to repair
            var v = m.Versions[0];
            Context.ActorSelection($"/user/{RepairActor.Name}").Tell(new RepairProtocol.QueueRepairs([
                new RepairEntry(v.VersionId, _nodeId, v.Bucket, v.Key, v.Size, $"scrub: chunk {m.Chunk.ToShortString()} corrupt on disk")]));
        });
        // The index could not say which version uses a corrupt chunk (it is restarting): the chunk is in quarantine,
        // and anti-entropy finds the copy this node lacks.
        Receive<StoreError>(e => _log.Warning("scrub: which object uses a corrupt chunk is not known yet: {0}", e.Message));
    }

    public static Props Props(StoreSettings settings, ChunkStore store, IActorRef reader, IActorRef index, string nodeId) =>
        ActorProps.Of(() => new ScrubberActor(settings, store, reader, index, nodeId));

    protected override void PreStart() => Timers.StartSingleTimer(nameof(StartPass), StartPass.Instance, _settings.Repair.ScrubInterval);

    protected override void PostStop() => _rate.Dispose();

    private void Start()
    {
        if (_running) return;
        _running = true;
        _passStarted = DateTimeOffset.UtcNow;
        (_checked, _bytes) = (0, 0);
        foreach (var id in _store.EnumerateChunks()) _todo.Enqueue(id);
        Timers.StartSingleTimer(nameof(StartPass), StartPass.Instance, _settings.Repair.ScrubInterval);
        Self.Tell(Next.Instance);
    }

    private void CheckNext()
    {
        if (!_todo.TryDequeue(out var id))
        {
            _running = false;
            _lastPassEnded = DateTimeOffset.UtcNow;
            var seconds = (_lastPassEnded - _passStarted).TotalSeconds;
            _lastRate = seconds > 0 ? _bytes / seconds : 0;
            _log.Info("scrub pass done: {0} chunks, {1} bytes re-hashed in {2:0.#}s; {3} corrupt so far", _checked, _bytes, seconds, _corrupt);
            return;
        }
        long size;
        try
        {
            size = new FileInfo(_store.PathOf(id)).Length;
        }
        catch (IOException)
        {
            Self.Tell(Next.Instance); // gone since the pass began
            return;
        }
        var reader = _reader;
        var timeout = _settings.RequestTimeout;
        _rate.Take(size).ContinueWith(_ => reader.Ask<object>(new ReadChunk(id), timeout)).Unwrap()
            .PipeTo(Self, success: reply => new Checked(id, size, reply), failure: e => new Checked(id, size, e));
    }

    private void HandleChecked(Checked m)
    {
        _checked++;
        _bytes += m.Bytes;
        if (m.Reply is StoreError { Code: StoreErrorCode.Corrupt } e)
        {
            _corrupt++;
            _log.Warning("scrub: {0}; a healthy copy will be fetched", e.Message);
            _index.Tell(new FindVersionsWithChunk(m.Id));
        }
        else if (m.Reply is StoreError { Code: not StoreErrorCode.NotFound } other)
            _log.Warning("scrub: chunk {0} could not be read: {1}", m.Id.ToShortString(), other.Message);
        Self.Tell(Next.Instance);
    }
}
