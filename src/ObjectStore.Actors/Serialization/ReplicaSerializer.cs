using System.Runtime.Serialization;
using Akka.Actor;
using ObjectStore.Actors.Protocol;
using static ObjectStore.Actors.Protocol.ReplicaProtocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;
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
        Message<CommitReplicas, W.CommitReplicas>("commitmany", W.CommitReplicas.Parser,
            m => new() { Commits = { m.Commits.Select(c => new W.CommitReplica { Manifest = WireMapping.Manifest(c.Manifest), UploadId = c.UploadId }) } },
            w =>
            {
                if (w.Commits.Count > CommitReplicas.MaxCommits) throw new SerializationException($"{w.Commits.Count} commits in one message (at most {CommitReplicas.MaxCommits})");
                if (w.Commits.Any(c => c.ChunksStaged)) throw new SerializationException("a commit of staged chunks cannot go in a batch");
                return new(w.Commits.Select(c => new CommitReplica(WireMapping.Manifest(c.Manifest, complete: true), c.UploadId)).ToList());
            });
        Message<ReplicasCommitted, W.ReplicasCommitted>("commitmanyok", W.ReplicasCommitted.Parser,
            m => new() { Outcomes = { m.Outcomes.Select(Outcome) } },
            w => new(w.Outcomes.Select(Outcome).ToList()));
        Message<StageChunks, W.StageChunks>("stage", W.StageChunks.Parser,
            m => new() { UploadId = m.UploadId, VersionId = m.VersionId, Start = m.Start, Chunks = Chunks(m.Chunks) },
            w => new(w.UploadId, w.VersionId, NonNegative(w.Start, "index"), Chunks(w.Chunks)));
        Message<ChunksStaged, W.ChunksStaged>("stageok", W.ChunksStaged.Parser, m => new() { VersionId = m.VersionId, Next = m.Next }, w => new(w.VersionId, w.Next));
        Message<ReplicaCommitted, W.ReplicaCommitted>("commitok", W.ReplicaCommitted.Parser,
            m => new() { VersionId = m.VersionId, Current = m.Current, Missing = Hashes(m.Missing) }, w => new(w.VersionId, w.Current, Hashes(w.Missing)));
        Message<DropReplica, W.DropReplica>("drop", W.DropReplica.Parser,
            m => new() { Bucket = m.Bucket, Key = m.Key, VersionId = m.VersionId }, w => new(w.Bucket, w.Key, w.VersionId));
        Message<ReplicaDropped, W.ReplicaDropped>("dropok", W.ReplicaDropped.Parser, m => new() { VersionId = m.VersionId }, w => new(w.VersionId));
        Message<ReleaseReplicaUpload, W.ReleaseReplicaUpload>("release", W.ReleaseReplicaUpload.Parser, m => new() { UploadId = m.UploadId }, w => new(w.UploadId));
        Message<FindManifest, W.FindManifest>("find", W.FindManifest.Parser, m => new() { Bucket = m.Bucket, Key = m.Key }, w => new(w.Bucket, w.Key));
        Message<ManifestReply, W.ManifestReply>("findok", W.ManifestReply.Parser, ToWire, FromWire);
        Message<FindManifests, W.FindManifests>("findmany", W.FindManifests.Parser, m => new() { Bucket = m.Bucket, Keys = { m.Keys } },
            w => w.Keys.Count <= FindManifests.MaxKeys ? new(w.Bucket, w.Keys.ToList())
                : throw new SerializationException($"{w.Keys.Count} keys in one lookup (at most {FindManifests.MaxKeys})"));
        Message<ManifestReplies, W.ManifestReplies>("findmanyok", W.ManifestReplies.Parser, m => new() { Replies = { m.Replies.Select(ToWire) } },
            w => new(w.Replies.Select(FromWire).ToList()));
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
        Message<NodeDraining, W.NodeDraining>("drain", W.NodeDraining.Parser,
            m => new() { NodeId = m.NodeId, Draining = m.Draining, TtlSeconds = m.TtlSeconds },
            w => new(w.NodeId, w.Draining, NonNegative(w.TtlSeconds, "ttl")));
        Message<SyncDigests, W.SyncDigests>("sync", W.SyncDigests.Parser,
            m => new() { Session = m.Session, NodeId = m.NodeId, Ranges = { m.Ranges.Select(Digest) } },
            w =>
            {
                if (w.Ranges.Count > SyncDigests.MaxRanges) throw new SerializationException($"{w.Ranges.Count} ranges in one sync request, at most {SyncDigests.MaxRanges}");
                return new SyncDigests(w.Session, w.NodeId, w.Ranges.Select(Digest).ToList());
            });
        Message<SyncAnswers, W.SyncAnswers>("syncok", W.SyncAnswers.Parser,
            m => new() { Session = m.Session, Answers = { m.Answers.Select(Answer) } },
            w => new(w.Session, w.Answers.Select(Answer).ToList()));
    }

    private static W.RangeDigest Digest(Core.Sync.RangeDigest d) => new() { Prefix = d.Range.Prefix, Depth = d.Range.Depth, Count = d.Count, Hash = d.Hash };

    private static Core.Sync.RangeDigest Digest(W.RangeDigest w) => new(Range(w.Prefix, w.Depth), NonNegative(w.Count, "count"), w.Hash);

    /// <summary>A range from the network: its depth within the tree and its prefix within its depth, or the message is refused.</summary>
    private static Core.Sync.HashRange Range(ulong prefix, int depth)
    {
        if (depth is < 0 or > Core.Sync.HashRange.MaxDepth) throw new SerializationException($"range depth {depth} outside 0..{Core.Sync.HashRange.MaxDepth}");
        if (depth < 16 && prefix >> (4 * depth) != 0) throw new SerializationException($"range prefix {prefix:x} longer than its depth {depth}");
        return new Core.Sync.HashRange(prefix, depth);
    }

    private static W.RangeAnswer Answer(Core.Sync.RangeAnswer a)
    {
        var w = new W.RangeAnswer { Prefix = a.Range.Prefix, Depth = a.Range.Depth, Listed = a.Items is not null };
        if (a.Items is not null) w.Items.AddRange(a.Items);
        if (a.Children is not null) w.Children.AddRange(a.Children.Select(Digest));
        return w;
    }

    private static Core.Sync.RangeAnswer Answer(W.RangeAnswer w)
    {
        var range = Range(w.Prefix, w.Depth);
        if (w.Listed)
        {
            if (w.Children.Count > 0) throw new SerializationException("a range answer lists items and children");
            if (w.Items.Any(i => i < range.First || i > range.Last)) throw new SerializationException("a listed item lies outside its range");
            return new Core.Sync.RangeAnswer(range, null, w.Items.ToList());
        }
        var children = w.Children.Select(Digest).ToList();
        if (range.Depth >= Core.Sync.HashRange.MaxDepth || !children.Select(c => c.Range).SequenceEqual(range.Children()))
            throw new SerializationException("a split range must come with its 16 children in order");
        return new Core.Sync.RangeAnswer(range, children, null);
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

    private static W.CommitOutcome Outcome(object o) => o switch
    {
        ReplicaCommitted c => new() { Committed = new W.ReplicaCommitted { VersionId = c.VersionId, Current = c.Current, Missing = Hashes(c.Missing) } },
        StoreError e => new() { Code = Code(e.Code), Error = e.Message },
        _ => throw new SerializationException($"a commit outcome cannot be a {o.GetType().Name}"),
    };

    private static object Outcome(W.CommitOutcome w) => w.Committed is { } c
        ? new ReplicaCommitted(c.VersionId, c.Current, Hashes(c.Missing))
        : new StoreError(Code(w.Code), w.Error);
}
