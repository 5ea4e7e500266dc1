using Akka.Actor;
using Akka.Cluster;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Replication;
using ObjectStore.Actors.Transfer;
using ObjectStore.Actors.Transfer.Download;
using ObjectStore.Actors.Transfer.Upload;
using ObjectStore.Core.Metadata;
using ObjectStore.Core.Validation;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.IndexProtocol;

namespace ObjectStore.Actors.Coordination;

/// <summary>
/// A node's front door (<c>/user/store</c>): checks every request, starts a session actor for each
/// put and get, and answers metadata requests from the whole cluster (<see cref="ClusterQueries"/>),
/// so any node serves any object.
/// </summary>
public sealed class StoreCoordinator : WireActor
{
    public const string Name = "store";

    private readonly StoreSettings _settings;
    private readonly StoreNode.Handles _node;
    private readonly UploadContext _uploads;
    private readonly string _nodeId;
    private readonly DataPlane? _dataPlane;
    private long _sessions;

    private sealed record ManifestLookup(GetObject Request, IActorRef Client, object Reply) : ILocalMessage;

    public StoreCoordinator(StoreSettings settings, StoreNode.Handles node, IActorRef pushes)
    {
        _settings = settings;
        _node = node;
        _nodeId = node.NodeId;
        _dataPlane = node.DataPlane;
        _uploads = new UploadContext(settings, node.NodeId, node.Keeper, pushes, node.DataPlane);

        Receive<PutObject>(m =>
        {
            if (!Check(m.Bucket, m.Key)) return;
            Context.ActorOf(UploadSessionActor.Props(_uploads, Sender, m), $"put-{++_sessions}");
        });
        Receive<PutSmallObject>(m =>
        {
            if (!Check(m.Bucket, m.Key)) return;
            if (m.Data.Length > _settings.FrameSize)
            {
                Sender.Tell(new StoreError(StoreErrorCode.InvalidRequest, $"a small put carries at most {_settings.FrameSize} bytes, got {m.Data.Length}"));
                return;
            }
            Context.ActorOf(UploadSessionActor.Props(_uploads with { DataPlane = null }, Sender, new PutObject(m.Bucket, m.Key, m.Data.Length, m.File), m.Data),
                $"put-{++_sessions}");
        });
        Receive<PutSmallObjects>(m =>
        {
            var cost = m.Objects.Sum(o => SmallBatches.Cost(o.Data.Length, o.Key));
            if (m.Objects.Count > PutSmallObjects.MaxObjects || cost > _settings.FrameSize)
            {
                Sender.Tell(new StoreError(StoreErrorCode.InvalidRequest,
                    $"a batch of small puts carries at most {PutSmallObjects.MaxObjects} objects costing {_settings.FrameSize} bytes (their bytes and keys), " +
                    $"got {m.Objects.Count} costing {cost}; nothing was stored"));
                return;
            }
            Context.ActorOf(SmallPutBatchActor.Props(_uploads, Sender, m), $"puts-{++_sessions}");
        });
        Receive<PutSmallFiles>(m =>
        {
            var keysCost = m.Objects.Sum(o => SmallBatches.KeyCost(o.Key));
            if (m.Objects.Count is 0 or > PutSmallObjects.MaxObjects || keysCost > _settings.FrameSize)
            {
                Sender.Tell(new StoreError(StoreErrorCode.InvalidRequest,
                    $"a put of small files names 1 to {PutSmallObjects.MaxObjects} objects with keys costing at most {_settings.FrameSize} bytes, " +
                    $"got {m.Objects.Count} costing {keysCost}; nothing was stored"));
                return;
            }
            if (_dataPlane is not { TakesHandOvers: true })
            {
                Sender.Tell(new StoreError(StoreErrorCode.InvalidRequest, "this node takes no files handed over (its local hand-over is off); send their bytes"));
                return;
            }
            Context.ActorOf(SmallPutFilesActor.Props(_uploads, Sender, m), $"puts-{++_sessions}");
        });
        Receive<GetObject>(m =>
        {
            if (!Check(m.Bucket, m.Key)) return;
            var client = Sender;
            Queries().NewestManifest(m.Bucket, m.Key)
                .PipeTo(Self, success: reply => new ManifestLookup(m, client, reply), failure: e => new ManifestLookup(m, client, Unavailable(e)));
        });
        Receive<GetSmallObjects>(m =>
        {
            if (!ValidBucket(m.Bucket)) return;
            var bad = m.Keys.FirstOrDefault(k => !ObjectKey.IsValid(k));
            var keysCost = m.Keys.Sum(SmallBatches.KeyCost);
            if (m.Keys.Count is 0 or > GetSmallObjects.MaxKeys || bad is not null || keysCost > _settings.FrameSize)
            {
                Sender.Tell(new StoreError(StoreErrorCode.InvalidRequest,
                    $"a batch of small gets asks for 1 to {GetSmallObjects.MaxKeys} valid keys costing at most {_settings.FrameSize} bytes, " +
                    $"got {m.Keys.Count} costing {keysCost}" + (bad is null ? "" : $" (invalid: '{bad}')")));
                return;
            }
            // Into files only where clients on this machine can hand files over; else answered inline, as a node before would.
            var intoFiles = m.IntoFiles && _dataPlane is { TakesHandOvers: true } ? _dataPlane : null;
            Context.ActorOf(SmallGetBatchActor.Props(_settings, _nodeId, _node.Reader, Sender, m, Queries().NewestManifests(m.Bucket, m.Keys), intoFiles),
                $"gets-{++_sessions}");
        });
        Receive<ManifestLookup>(m =>
        {
            if (m.Reply is ObjectManifest manifest)
                Context.ActorOf(DownloadSessionActor.Props(_settings, _nodeId, _node.Reader, m.Client, manifest, m.Request.Window, _dataPlane),
                    $"get-{++_sessions}");
            else
                m.Client.Tell(m.Reply);
        });
        Receive<ListObjects>(m =>
        {
            if (!ValidBucket(m.Bucket)) return;
            if (m.Prefix.Length > 0 && !ObjectKey.IsValid(m.Prefix))
            {
                Reject(() => ObjectKey.Validate(m.Prefix));
                return;
            }
            Queries().List(m).PipeTo(Sender, failure: Unavailable);
        });
        Receive<ListBuckets>(_ => Queries().Buckets().PipeTo(Sender, failure: Unavailable));
        Receive<StatObject>(m =>
        {
            if (Check(m.Bucket, m.Key)) Queries().Stat(m.Bucket, m.Key, m.FirstChunk).PipeTo(Sender, failure: Unavailable);
        });
        Receive<DeleteObject>(m =>
        {
            if (Check(m.Bucket, m.Key)) Queries().Delete(m.Bucket, m.Key).PipeTo(Sender, failure: Unavailable);
        });
        Receive<GetNodeStatus>(_ =>
        {
            var (nodeId, chunks) = (_nodeId, _node.Chunks);
            _node.Index.Ask<object>(CountObjects.Instance, _settings.RequestTimeout)
                .PipeTo(Sender, success: reply => reply is ObjectCount c ? new NodeStatus(nodeId, c.Objects, chunks.Count) : reply, failure: Unavailable);
        });
        Receive<ListMembers>(_ => ListMembersTo(Sender));
        Receive<GetNodeHealth>(_ => NodeHealthReport.Of(Context.System, _settings, _node).PipeTo(Sender, failure: Unavailable));
        Receive<LeaveCluster>(_ => Context.ActorSelection($"/user/{Replication.Sync.DrainActor.Name}").Tell(Replication.Sync.DrainActor.StartDrain.Instance, Sender));
        Receive<GetClusterHealth>(_ => NodeHealthReport.OfCluster(Context.System, _settings, _node).PipeTo(Sender, failure: Unavailable));
    }

    /// <summary>
    /// The cluster as this node sees it, each member asked for its own node id and counts. A member
    /// that cannot answer (unreachable, or on its way out) is not asked, and one that does not answer
    /// within half the request timeout is listed without counts: the listing has to come back in time
    /// exactly when a node is down, which is when an operator runs it. The node id comes from the
    /// member's role when the member itself does not say.
    /// </summary>
    private void ListMembersTo(IActorRef client)
    {
        var system = Context.System;
        var timeout = _settings.RequestTimeout / 2;
        List<(Address Address, string Status, IReadOnlyList<string> Roles, string NodeId, bool Ask)> members;
        if (((ExtendedActorSystem)system).Provider is Akka.Cluster.ClusterActorRefProvider)
        {
            var state = Akka.Cluster.Cluster.Get(system).State;
            var unreachable = state.Unreachable.Select(m => m.Address).ToHashSet();
            members = state.Members
                .Select(m => (m.Address, unreachable.Contains(m.Address) ? $"{m.Status} (unreachable)" : m.Status.ToString(),
                    (IReadOnlyList<string>)m.Roles.Where(r => !r.StartsWith(ClusterRing.NodeRolePrefix, StringComparison.Ordinal)).Order().ToList(),
                    ClusterRing.NodeIdOf(m.Roles) ?? "",
                    !unreachable.Contains(m.Address) && m.Status is MemberStatus.Up or MemberStatus.Joining or MemberStatus.WeaklyUp or MemberStatus.Leaving))
                .ToList();
        }
        else
        {
            members = [(((ExtendedActorSystem)system).Provider.DefaultAddress, "Up", [], _nodeId, true)];
        }
        var asks = members.Select(async m =>
        {
            var status = m.Ask ? await AskStatus(system, m.Address, timeout) : null;
            return new MemberInfo(m.Address.ToString(), m.Status, m.Roles, status?.NodeId ?? m.NodeId, status?.Objects ?? -1, status?.Chunks ?? -1);
        });
        var notice = ClusterJoin.NotJoinedNotice(system) ?? "";
        Task.WhenAll(asks).PipeTo(client, success: infos => new MemberListing(infos, notice));
    }

    private static async Task<NodeStatus?> AskStatus(ActorSystem system, Address address, TimeSpan timeout)
    {
        try
        {
            var reply = await system.ActorSelection(new RootActorPath(address) / "user" / Name).Ask<object>(GetNodeStatus.Instance, timeout);
            return reply as NodeStatus;
        }
        catch (Exception e) when (e is AskTimeoutException or ActorNotFoundException or TaskCanceledException)
        {
            return null;
        }
    }

    public static Props Props(StoreSettings settings, StoreNode.Handles node, IActorRef pushes) =>
        ActorProps.Of(() => new StoreCoordinator(settings, node, pushes));

    private ClusterQueries Queries() =>
        new(Context.System, ClusterRing.Current(Context.System, _nodeId), _settings.Replication.LookupTimeout, _settings.Replication.ManifestPage);

    private static StoreError Unavailable(Exception e) =>
        new(StoreErrorCode.Unavailable, $"storage did not answer ({e.GetType().Name}); it may be restarting after a disk error, try again");

    private bool Check(string bucket, string key)
    {
        if (!ValidBucket(bucket)) return false;
        if (ObjectKey.IsValid(key)) return true;
        Reject(() => ObjectKey.Validate(key));
        return false;
    }

    private bool ValidBucket(string bucket)
    {
        if (BucketName.IsValid(bucket)) return true;
        Reject(() => BucketName.Validate(bucket));
        return false;
    }

    private void Reject(Action validate)
    {
        try
        {
            validate();
        }
        catch (InvalidNameException e)
        {
            Sender.Tell(new StoreError(StoreErrorCode.InvalidRequest, e.Message));
        }
    }
}
