using System.Buffers.Binary;
using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Serialization;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Metadata;
using static ObjectStore.Actors.Protocol.ReplicationProtocol;

namespace ObjectStore.Actors.Serialization;

/// <summary>
/// Binary serializer for every <see cref="IReplicationMessage"/> (bound in akka.hocon). A chunk part is
/// a 12-byte header and the raw bytes; decoding slices the received array. Like the store serializer,
/// anything malformed becomes a SerializationException, which Akka.Remote drops with a warning
/// instead of closing the connection between the two nodes.
/// </summary>
public sealed class ReplicationMessageSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int SerializerId = 1702;
    private const int PartHeader = 12;

    public override int Identifier => SerializerId;

    public override string Manifest(object o) => o switch
    {
        OfferChunk => "offer",
        ChunkPresent => "present",
        SendChunk => "send",
        ChunkPart => "part",
        ChunkPartAck => "partack",
        ChunkDurable => "durable",
        TransferFailed => "xfail",
        FetchChunk => "fetch",
        CommitReplica => "commit",
        StageChunks => "stage",
        ChunksStaged => "stageok",
        FindManifestChunks => "findpage",
        ManifestChunks => "findpageok",
        ReplicaCommitted => "commitok",
        DropReplica => "drop",
        ReplicaDropped => "dropok",
        ReleaseReplicaUpload => "release",
        FindManifest => "find",
        ManifestReply => "findok",
        WhichChunks => "which",
        ChunksHeld => "held",
        ListLocalObjects => "lsl",
        LocalListing => "lslok",
        ListLocalBuckets => "lbl",
        DeleteLocal => "rml",
        _ => throw new ArgumentException($"{o.GetType()} is not a replication message", nameof(o)),
    };

    public override byte[] ToBinary(object obj)
    {
        if (obj is ChunkPart part)
        {
            var bytes = new byte[PartHeader + part.Data.Length];
            BinaryPrimitives.WriteInt64LittleEndian(bytes, part.TransferId);
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), part.Offset);
            part.Data.Span.CopyTo(bytes.AsSpan(PartHeader));
            return bytes;
        }
        var w = new WireWriter();
        switch (obj)
        {
            case OfferChunk m: w.Int64(m.TransferId); w.String(m.UploadId); w.Hash(m.Id); w.Int32(m.Length); break;
            case ChunkPresent m: w.Int64(m.TransferId); break;
            case SendChunk m: w.Int64(m.TransferId); w.String(ActorPath(m.Receiver)); break;
            case ChunkPartAck m: w.Int64(m.TransferId); w.Int32(m.Received); break;
            case ChunkDurable m: w.Int64(m.TransferId); break;
            case TransferFailed m: w.Int64(m.TransferId); w.String(m.Reason); break;
            case FetchChunk m: w.Int64(m.TransferId); w.Hash(m.Id); w.String(ActorPath(m.Receiver)); break;
            case CommitReplica m: w.Bool(m.ChunksStaged); WriteManifest(w, m.Manifest); w.String(m.UploadId); break;
            case StageChunks m: w.String(m.UploadId); w.String(m.VersionId); w.Int32(m.Start); WriteChunks(w, m.Chunks); break;
            case ChunksStaged m: w.String(m.VersionId); w.Int32(m.Next); break;
            case FindManifestChunks m: w.String(m.Bucket); w.String(m.Key); w.String(m.VersionId); w.Int32(m.Start); break;
            case ManifestChunks m: w.String(m.VersionId); w.Int32(m.Start); WriteChunks(w, m.Chunks); break;
            case ReplicaCommitted m: w.String(m.VersionId); w.Bool(m.Current); break;
            case DropReplica m: w.String(m.Bucket); w.String(m.Key); w.String(m.VersionId); break;
            case ReplicaDropped m: w.String(m.VersionId); break;
            case ReleaseReplicaUpload m: w.String(m.UploadId); break;
            case FindManifest m: w.String(m.Bucket); w.String(m.Key); break;
            case ManifestReply m:
                w.String(m.NodeId);
                w.Bool(m.Manifest is not null);
                if (m.Manifest is not null) WriteManifest(w, m.Manifest);
                w.Int32(m.TotalChunks);
                w.Bool(m.Deleted is not null);
                if (m.Deleted is not null) WriteMarker(w, m.Deleted);
                break;
            case LocalListing m:
                w.String(m.Bucket);
                w.Int32(m.Objects.Count);
                foreach (var o in m.Objects) StoreMessageSerializer.WriteInfo(w, o);
                w.Int32(m.Deleted.Count);
                foreach (var d in m.Deleted) WriteMarker(w, d);
                w.Bool(m.Truncated);
                break;
            case WhichChunks m: WriteHashes(w, m.Ids); break;
            case ChunksHeld m: w.String(m.NodeId); WriteHashes(w, m.Ids); break;
            case ListLocalObjects m: w.String(m.Bucket); w.String(m.Prefix); w.NullableString(m.StartAfter); w.Int32(m.Limit); break;
            case ListLocalBuckets: break;
            case DeleteLocal m: WriteMarker(w, m.Marker); break;
            default: throw new ArgumentException($"{obj.GetType()} is not a replication message", nameof(obj));
        }
        return w.ToArray();
    }

    public override object FromBinary(byte[] bytes, string manifest) => SafeDecode.Run(Decode, bytes, manifest);

    private object Decode(byte[] bytes, string manifest)
    {
        if (manifest == "part")
        {
            if (bytes.Length < PartHeader) throw new SerializationException("truncated chunk part");
            if (bytes.Length - PartHeader > StoreSettings.MaxFrameSize) throw new SerializationException($"chunk part of {bytes.Length - PartHeader} bytes exceeds the limit");
            var offset = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(8));
            if (offset < 0) throw new SerializationException($"chunk part at negative offset {offset}");
            return new ChunkPart(BinaryPrimitives.ReadInt64LittleEndian(bytes), offset, bytes.AsMemory(PartHeader));
        }
        var r = new WireReader(bytes);
        object message = manifest switch
        {
            "offer" => new OfferChunk(r.Int64(), r.String(), r.Hash(), r.Int32()),
            "present" => new ChunkPresent(r.Int64()),
            "send" => new SendChunk(r.Int64(), ResolveActor(r.String())),
            "partack" => new ChunkPartAck(r.Int64(), r.Int32()),
            "durable" => new ChunkDurable(r.Int64()),
            "xfail" => new TransferFailed(r.Int64(), r.String()),
            "fetch" => new FetchChunk(r.Int64(), r.Hash(), ResolveActor(r.String())),
            "commit" => ReadCommit(ref r),
            "stage" => new StageChunks(r.String(), r.String(), NonNegative(r.Int32()), ReadChunks(ref r)),
            "stageok" => new ChunksStaged(r.String(), r.Int32()),
            "findpage" => new FindManifestChunks(r.String(), r.String(), r.String(), NonNegative(r.Int32())),
            "findpageok" => new ManifestChunks(r.String(), NonNegative(r.Int32()), ReadChunks(ref r)),
            "commitok" => new ReplicaCommitted(r.String(), r.Bool()),
            "drop" => new DropReplica(r.String(), r.String(), r.String()),
            "dropok" => new ReplicaDropped(r.String()),
            "release" => new ReleaseReplicaUpload(r.String()),
            "find" => new FindManifest(r.String(), r.String()),
            "findok" => ReadManifestReply(ref r),
            "which" => new WhichChunks(ReadHashes(ref r)),
            "held" => new ChunksHeld(r.String(), ReadHashes(ref r)),
            "lsl" => new ListLocalObjects(r.String(), r.String(), r.NullableString(), r.Int32()),
            "lbl" => ListLocalBuckets.Instance,
            "rml" => new DeleteLocal(ReadMarker(ref r)),
            "lslok" => ReadLocalListing(ref r),
            _ => throw new SerializationException($"unknown replication message manifest '{manifest}'"),
        };
        r.End();
        return message;
    }

    /// <summary>An object's metadata with its ordered chunk list (about 36 bytes per chunk).</summary>
    internal static void WriteManifest(WireWriter w, ObjectManifest m)
    {
        w.String(m.Bucket);
        w.String(m.Key);
        w.String(m.VersionId);
        w.Int64(m.Size);
        w.Hash(m.Sha256);
        w.Int64(m.Created.ToUnixTimeMilliseconds());
        w.String(m.Writer);
        WriteChunks(w, m.Chunks);
    }

    /// <param name="complete">The chunk list is the whole object's, so its lengths must add up to the size.</param>
    internal static ObjectManifest ReadManifest(ref WireReader r, bool complete = true)
    {
        var bucket = r.String();
        var key = r.String();
        var version = r.String();
        var size = r.Int64();
        if (size < 0) throw new SerializationException($"negative object size {size}");
        var sha = r.Hash();
        var created = DateTimeOffset.FromUnixTimeMilliseconds(r.Int64());
        var writer = r.String();
        var chunks = ReadChunks(ref r);
        if (complete && chunks.Sum(c => (long)c.Length) is var total && total != size)
            throw new SerializationException($"manifest of {bucket}/{key}: chunks add up to {total} bytes, the object has {size}");
        return new ObjectManifest(bucket, key, version, size, sha, created, chunks, writer);
    }

    private static CommitReplica ReadCommit(ref WireReader r)
    {
        var staged = r.Bool();
        var manifest = ReadManifest(ref r, complete: !staged);
        if (staged && manifest.Chunks.Count > 0) throw new SerializationException("a commit of staged chunks carries no chunk list");
        return new CommitReplica(manifest, r.String(), staged);
    }

    private static ManifestReply ReadManifestReply(ref WireReader r)
    {
        var nodeId = r.String();
        var manifest = r.Bool() ? ReadManifest(ref r, complete: false) : null;
        var total = r.Int32();
        var deleted = r.Bool() ? ReadMarker(ref r) : null;
        if (manifest is null) return new ManifestReply(nodeId, null, total, deleted);
        if (total < manifest.Chunks.Count) throw new SerializationException($"manifest reply lists {manifest.Chunks.Count} chunks of {total}");
        if (total == manifest.Chunks.Count && manifest.Chunks.Sum(c => (long)c.Length) != manifest.Size)
            throw new SerializationException($"manifest of {manifest.Bucket}/{manifest.Key}: chunks do not add up to its size");
        return new ManifestReply(nodeId, manifest, total, deleted);
    }

    private static void WriteMarker(WireWriter w, DeleteMarker d)
    {
        w.String(d.Bucket);
        w.String(d.Key);
        w.String(d.VersionId);
        w.Int64(d.Created.ToUnixTimeMilliseconds());
        w.String(d.Writer);
    }

    private static DeleteMarker ReadMarker(ref WireReader r) =>
        new(r.String(), r.String(), r.String(), DateTimeOffset.FromUnixTimeMilliseconds(r.Int64()), r.String());

    private static LocalListing ReadLocalListing(ref WireReader r)
    {
        var bucket = r.String();
        var count = r.Count(64);
        var objects = new List<ObjectInfo>(count);
        for (var i = 0; i < count; i++) objects.Add(StoreMessageSerializer.ReadInfo(ref r));
        var markers = r.Count(32);
        var deleted = new List<DeleteMarker>(markers);
        for (var i = 0; i < markers; i++) deleted.Add(ReadMarker(ref r));
        return new LocalListing(bucket, objects, deleted, r.Bool());
    }

    private static void WriteChunks(WireWriter w, IReadOnlyList<ChunkRef> chunks)
    {
        w.Int32(chunks.Count);
        foreach (var c in chunks)
        {
            w.Hash(c.Id);
            w.Int32(c.Length);
        }
    }

    private static List<ChunkRef> ReadChunks(ref WireReader r)
    {
        var count = r.Count(36);
        var chunks = new List<ChunkRef>(count);
        for (var i = 0; i < count; i++)
        {
            var id = r.Hash();
            var length = r.Int32();
            if (length < 0) throw new SerializationException($"chunk of negative length {length}");
            chunks.Add(new ChunkRef(id, length));
        }
        return chunks;
    }

    private static int NonNegative(int value) => value >= 0 ? value : throw new SerializationException($"negative index {value}");

    private static void WriteHashes(WireWriter w, IReadOnlyList<Core.Hashing.ContentHash> ids)
    {
        w.Int32(ids.Count);
        foreach (var id in ids) w.Hash(id);
    }

    private static List<Core.Hashing.ContentHash> ReadHashes(ref WireReader r)
    {
        var count = r.Count(Core.Hashing.ContentHash.Size);
        var ids = new List<Core.Hashing.ContentHash>(count);
        for (var i = 0; i < count; i++) ids.Add(r.Hash());
        return ids;
    }

    private static string ActorPath(IActorRef actor) => Akka.Serialization.Serialization.SerializedActorPath(actor);

    private IActorRef ResolveActor(string path) => system.Provider.ResolveActorRef(path);
}
