using Akka.Actor;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Storage;
using ObjectStore.Core.Sync;
using static ObjectStore.Actors.Protocol.ReplicaProtocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.IndexProtocol;

namespace ObjectStore.Actors.Replication.Sync;

/// <summary>
/// Where other nodes' anti-entropy asks this one (<c>/user/sync</c>): for each session it computes, once,
/// what this node should have in common with the asker (<see cref="PairItems"/>, from the index and the
/// chunk files) and answers each batch of range digests with the ranges that differ here. It never waits
/// on another node, so two nodes comparing with each other at once cannot hold each other up.
/// </summary>
public sealed class SyncEndpoint : WireActor
{
    public const string Name = "sync";

    /// <summary>A session not asked about for this long is forgotten (the asker starts a new one).</summary>
    private static readonly TimeSpan SessionIdle = TimeSpan.FromMinutes(2);

    private readonly StoreSettings _settings;
    private readonly IActorRef _index;
    private readonly ChunkStore _chunks;
    private readonly string _nodeId;
    private readonly Dictionary<string, (PairItems Items, DateTime LastAsked)> _sessions = new();

    public SyncEndpoint(StoreSettings settings, IActorRef index, ChunkStore chunks, string nodeId)
    {
        _settings = settings;
        _index = index;
        _chunks = chunks;
        _nodeId = nodeId;
        ReceiveAsync<SyncDigests>(HandleDigests);
    }

    public static Props Props(StoreSettings settings, IActorRef index, ChunkStore chunks, string nodeId) =>
        ActorProps.Of(() => new SyncEndpoint(settings, index, chunks, nodeId));

    private async Task HandleDigests(SyncDigests m)
    {
        var sender = Sender;
        var now = DateTime.UtcNow;
        foreach (var idle in _sessions.Where(s => now - s.Value.LastAsked > SessionIdle).Select(s => s.Key).ToList()) _sessions.Remove(idle);
        var ring = ClusterRing.Current(Context.System, _nodeId);
        if (m.Session.Length is 0 or > 64 || ring.Find(m.NodeId) is null)
        {
            sender.Tell(new StoreError(StoreErrorCode.InvalidRequest, $"sync from '{m.NodeId}', which is not a storage member here (or a bad session id)"));
            return;
        }
        if (!_sessions.TryGetValue(m.Session, out var session))
        {
            var reply = await _index.Ask<object>(GetHoldings.Instance, _settings.RequestTimeout);
            if (reply is not HoldingsFound found)
            {
                sender.Tell(new StoreError(StoreErrorCode.StorageFailure, "the index could not be read for anti-entropy"));
                return;
            }
            session = (new PairItems(found.Holdings, _chunks.Contains, ring.Placement, _settings.Replication.Factor, _nodeId, m.NodeId), now);
        }
        _sessions[m.Session] = (session.Items, now);
        sender.Tell(new SyncAnswers(m.Session, DigestExchange.Answer(session.Items.Tree, m.Ranges)));
    }
}
