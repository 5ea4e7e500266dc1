using Akka.Actor;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Metadata;
using static ObjectStore.Actors.Protocol.ReplicaProtocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Replication;

/// <summary>
/// Collects the manifests a batch of small puts sends to each node and sends them as one CommitReplicas
/// per node (a node's index then commits them in one transaction); each manifest's task completes with
/// that node's outcome for it, as <see cref="ManifestCommit.CommitOn"/> would for one.
/// </summary>
internal sealed class BatchedManifestCommits(IActorContext context, ReplicationSettings settings)
{
    private readonly Dictionary<RingMember, List<(CommitReplica Commit, TaskCompletionSource<object> Reply)>> _pending = new();

    public Task<object> CommitOn(RingMember node, ObjectManifest manifest, string uploadId)
    {
        if (!_pending.TryGetValue(node, out var list)) _pending[node] = list = [];
        var reply = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
        list.Add((new CommitReplica(manifest, uploadId), reply));
        return reply.Task;
    }

    /// <summary>Sends what was collected; called on the actor's thread once every manifest is in.</summary>
    public void Send()
    {
        foreach (var (node, list) in _pending)
        {
            var replicas = ClusterRing.ReplicasOf(context, node.Address);
            foreach (var group in list.Chunk(CommitReplicas.MaxCommits))
                _ = Complete(group, replicas.Ask<object>(new CommitReplicas(group.Select(g => g.Commit).ToList()), settings.TransferTimeout));
        }
        _pending.Clear();
    }

    private static async Task Complete((CommitReplica Commit, TaskCompletionSource<object> Reply)[] group, Task<object> asked)
    {
        try
        {
            var reply = await asked;
            for (var i = 0; i < group.Length; i++)
                group[i].Reply.SetResult(reply switch
                {
                    ReplicasCommitted { Outcomes.Count: var n } all when n == group.Length => all.Outcomes[i],
                    StoreError e => e,
                    _ => new StoreError(StoreErrorCode.Unavailable, $"unexpected reply {reply.GetType().Name} to a batch of commits"),
                });
        }
        catch (Exception e)
        {
            foreach (var item in group) item.Reply.TrySetException(e);
        }
    }
}
