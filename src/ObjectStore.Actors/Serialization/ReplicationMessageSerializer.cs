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
        ReplicaCommitted => "commitok",
        DropReplica => "drop",
        ReplicaDropped => "dropok",
        ReleaseReplicaUpload => "release",
        FindManifest => "find",
        ManifestReply => "findok",
        WhichChunks => "which",
        ChunksHeld => "held",
        ListLocalObjects => "lsl",
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
            case CommitReplica m: WriteManifest(w, m.Manifest); w.String(m.UploadId); break;
            case ReplicaCommitted m: w.String(m.VersionId); w.Bool(m.Current); break;
            case DropReplica m: w.String(m.Bucket); w.String(m.Key); w.String(m.VersionId); break;
            case ReplicaDropped m: w.String(m.VersionId); break;
            case ReleaseReplicaUpload m: w.String(m.UploadId); break;
            case FindManifest m: w.String(m.Bucket); w.String(m.Key); break;
            case ManifestReply m:
                w.String(m.NodeId);
                w.Bool(m.Manifest is not null);
                if (m.Manifest is not null) WriteManifest(w, m.Manifest);
                break;
            case WhichChunks m: WriteHashes(w, m.Ids); break;
            case ChunksHeld m: w.String(m.NodeId); WriteHashes(w, m.Ids); break;
            case ListLocalObjects m: w.String(m.Bucket); w.String(m.Prefix); w.NullableString(m.StartAfter); w.Int32(m.Limit); break;
            case ListLocalBuckets: break;
            case DeleteLocal m: w.String(m.Bucket); w.String(m.Key); break;
            default: throw new ArgumentException($"{obj.GetType()} is not a replication message", nameof(obj));
        }
        return w.ToArray();
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        try
        {
            return Decode(bytes, manifest);
        }
        catch (SerializationException)
        {
            throw;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            throw new SerializationException($"malformed '{manifest}' message: {e.Message}", e);
        }
    }

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
            "commit" => new CommitReplica(ReadManifest(ref r), r.String()),
            "commitok" => new ReplicaCommitted(r.String(), r.Bool()),
            "drop" => new DropReplica(r.String(), r.String(), r.String()),
            "dropok" => new ReplicaDropped(r.String()),
            "release" => new ReleaseReplicaUpload(r.String()),
            "find" => new FindManifest(r.String(), r.String()),
            "findok" => new ManifestReply(r.String(), r.Bool() ? ReadManifest(ref r) : null),
            "which" => new WhichChunks(ReadHashes(ref r)),
            "held" => new ChunksHeld(r.String(), ReadHashes(ref r)),
            "lsl" => new ListLocalObjects(r.String(), r.String(), r.NullableString(), r.Int32()),
            "lbl" => ListLocalBuckets.Instance,
            "rml" => new DeleteLocal(r.String(), r.String()),
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
        w.Int32(m.Chunks.Count);
        foreach (var c in m.Chunks)
        {
            w.Hash(c.Id);
            w.Int32(c.Length);
        }
    }

    internal static ObjectManifest ReadManifest(ref WireReader r)
    {
        var bucket = r.String();
        var key = r.String();
        var version = r.String();
        var size = r.Int64();
        var sha = r.Hash();
        var created = DateTimeOffset.FromUnixTimeMilliseconds(r.Int64());
        var writer = r.String();
        var count = r.Count(36);
        var chunks = new List<ChunkRef>(count);
        long total = 0;
        for (var i = 0; i < count; i++)
        {
            var id = r.Hash();
            var length = r.Int32();
            if (length < 0) throw new SerializationException($"chunk of negative length {length}");
            total += length;
            chunks.Add(new ChunkRef(id, length));
        }
        if (total != size) throw new SerializationException($"manifest of {bucket}/{key}: chunks add up to {total} bytes, the object has {size}");
        return new ObjectManifest(bucket, key, version, size, sha, created, chunks, writer);
    }

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
