using Akka.Actor;
using ObjectStore.Core.Metadata;
using static ObjectStore.Actors.Protocol.ReplicaProtocol;

namespace ObjectStore.Actors.Replication;

/// <summary>Sends a manifest to one node's replica endpoint, for a put and for a repair alike.</summary>
internal static class ManifestCommit
{
    /// <summary>
    /// In one message when its chunk list fits one page, else the list page by page first (each page must be
    /// taken before the next goes), then the commit without it. Returns the node's last reply
    /// (ReplicaCommitted on success, else what went wrong).
    /// </summary>
    public static async Task<object> CommitOn(ActorSelection replicas, ObjectManifest manifest, string uploadId, ReplicationSettings settings)
    {
        var timeout = settings.TransferTimeout;
        var page = settings.ManifestPage;
        if (manifest.Chunks.Count <= page) return await replicas.Ask<object>(new CommitReplica(manifest, uploadId), timeout);
        for (var start = 0; start < manifest.Chunks.Count; start += page)
        {
            var chunks = manifest.Chunks.Skip(start).Take(page).ToList();
            var reply = await replicas.Ask<object>(new StageChunks(uploadId, manifest.VersionId, start, chunks), timeout);
            if (reply is not ChunksStaged staged || staged.Next != start + chunks.Count) return reply;
        }
        return await replicas.Ask<object>(new CommitReplica(manifest with { Chunks = [] }, uploadId, ChunksStaged: true), timeout);
    }
}
