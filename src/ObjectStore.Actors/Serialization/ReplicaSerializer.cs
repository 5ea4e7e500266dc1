using System.Runtime.Serialization;
using Akka.Actor;
using ObjectStore.Actors.Protocol;
using static ObjectStore.Actors.Protocol.ReplicaProtocol;
using static ObjectStore.Actors.Serialization.WireMapping;
using W = ObjectStore.Actors.Protocol.Wire;

namespace ObjectStore.Actors.Serialization;

/// <summary>The node ↔ node metadata protocol (replicas.proto), bound to <see cref="IReplicaMessage"/> in akka.hocon.</summary>
public sealed class ReplicaSerializer : ProtoSerializer
{
    public const int SerializerId = 1703;

    public override int Identifier => SerializerId;

    public ReplicaSerializer(ExtendedActorSystem system) : base(system, "replica")
    {
        Message<CommitReplica, W.CommitReplica>("commit", W.CommitReplica.Parser,
            m => new() { Manifest = WireMapping.Manifest(m.Manifest), UploadId = m.UploadId, ChunksStaged = m.ChunksStaged },
            w =>
            {
                var manifest = WireMapping.Manifest(w.Manifest, complete: !w.ChunksStaged);
                if (w.ChunksStaged && manifest.Chunks.Count > 0) throw new SerializationException("a commit of staged chunks carries no chunk list");
                return new CommitReplica(manifest, w.UploadId, w.ChunksStaged);
            });
        Message<StageChunks, W.StageChunks>("stage", W.StageChunks.Parser,
            m => new() { UploadId = m.UploadId, VersionId = m.VersionId, Start = m.Start, Chunks = Chunks(m.Chunks) },
            w => new(w.UploadId, w.VersionId, NonNegative(w.Start, "index"), Chunks(w.Chunks)));
        Message<ChunksStaged, W.ChunksStaged>("stageok", W.ChunksStaged.Parser, m => new() { VersionId = m.VersionId, Next = m.Next }, w => new(w.VersionId, w.Next));
        Message<ReplicaCommitted, W.ReplicaCommitted>("commitok", W.ReplicaCommitted.Parser,
            m => new() { VersionId = m.VersionId, Current = m.Current }, w => new(w.VersionId, w.Current));
        Message<DropReplica, W.DropReplica>("drop", W.DropReplica.Parser,
            m => new() { Bucket = m.Bucket, Key = m.Key, VersionId = m.VersionId }, w => new(w.Bucket, w.Key, w.VersionId));
        Message<ReplicaDropped, W.ReplicaDropped>("dropok", W.ReplicaDropped.Parser, m => new() { VersionId = m.VersionId }, w => new(w.VersionId));
        Message<ReleaseReplicaUpload, W.ReleaseReplicaUpload>("release", W.ReleaseReplicaUpload.Parser, m => new() { UploadId = m.UploadId }, w => new(w.UploadId));
        Message<FindManifest, W.FindManifest>("find", W.FindManifest.Parser, m => new() { Bucket = m.Bucket, Key = m.Key }, w => new(w.Bucket, w.Key));
        Message<ManifestReply, W.ManifestReply>("findok", W.ManifestReply.Parser, ToWire, FromWire);
        Message<FindManifestChunks, W.FindManifestChunks>("findpage", W.FindManifestChunks.Parser,
            m => new() { Bucket = m.Bucket, Key = m.Key, VersionId = m.VersionId, Start = m.Start },
            w => new(w.Bucket, w.Key, w.VersionId, NonNegative(w.Start, "index")));
        Message<ManifestChunks, W.ManifestChunks>("findpageok", W.ManifestChunks.Parser,
            m => new() { VersionId = m.VersionId, Start = m.Start, Chunks = Chunks(m.Chunks) },
            w => new(w.VersionId, NonNegative(w.Start, "index"), Chunks(w.Chunks)));
        Message<ListLocalObjects, W.ListLocalObjects>("lsl", W.ListLocalObjects.Parser,
            m =>
            {
                var w = new W.ListLocalObjects { Bucket = m.Bucket, Prefix = m.Prefix, Limit = m.Limit };
                if (m.StartAfter is not null) w.StartAfter = m.StartAfter;
                return w;
            },
            w => new(w.Bucket, w.Prefix, w.HasStartAfter ? w.StartAfter : null, w.Limit));
        Message<LocalListing, W.LocalListing>("lslok", W.LocalListing.Parser,
            m => new() { Bucket = m.Bucket, Objects = { m.Objects.Select(Info) }, Deleted = { m.Deleted.Select(Marker) }, Truncated = m.Truncated },
            w => new(w.Bucket, w.Objects.Select(Info).ToList(), w.Deleted.Select(Marker).ToList(), w.Truncated));
        Message<ListLocalBuckets, W.ListLocalBuckets>("lbl", W.ListLocalBuckets.Parser, _ => new(), _ => ListLocalBuckets.Instance);
        Message<DeleteLocal, W.DeleteLocal>("rml", W.DeleteLocal.Parser, m => new() { Marker = Marker(m.Marker) }, w => new(Marker(w.Marker)));
    }

    private static W.ManifestReply ToWire(ManifestReply m)
    {
        var w = new W.ManifestReply { NodeId = m.NodeId, TotalChunks = m.TotalChunks };
        if (m.Manifest is not null) w.Manifest = WireMapping.Manifest(m.Manifest);
        if (m.Deleted is not null) w.Deleted = Marker(m.Deleted);
        return w;
    }

    private static ManifestReply FromWire(W.ManifestReply w)
    {
        var deleted = w.Deleted is null ? null : Marker(w.Deleted);
        if (w.Manifest is null) return new ManifestReply(w.NodeId, null, w.TotalChunks, deleted);
        var manifest = WireMapping.Manifest(w.Manifest, complete: false);
        if (w.TotalChunks < manifest.Chunks.Count) throw new SerializationException($"manifest reply lists {manifest.Chunks.Count} chunks of {w.TotalChunks}");
        if (w.TotalChunks == manifest.Chunks.Count && manifest.Chunks.Sum(c => (long)c.Length) != manifest.Size)
            throw new SerializationException($"manifest of {manifest.Bucket}/{manifest.Key}: chunks do not add up to its size");
        return new ManifestReply(w.NodeId, manifest, w.TotalChunks, deleted);
    }
}
