using System.Buffers.Binary;
using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Serialization;
using ObjectStore.Actors.Protocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Serialization;

/// <summary>
/// Binary serializer for every <see cref="IStoreMessage"/> (bound in akka.hocon). The default JSON
/// serializer would turn file data into base64 text; here a frame is an 8-byte sequence number followed
/// by the raw bytes, and decoding slices the received array instead of copying it.
/// </summary>
public sealed class StoreMessageSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int SerializerId = 1701;

    public override int Identifier => SerializerId;

    private const string PutObjectManifest = "put";
    private const string PutSmallObjectManifest = "putsmall";
    private const string UploadReadyManifest = "upr";
    private const string UploadCompleteManifest = "upc";
    private const string UploadProgressManifest = "upp";
    private const string PutCompletedManifest = "putok";
    private const string GetObjectManifest = "get";
    private const string DownloadReadyManifest = "dlr";
    private const string DownloadCompleteManifest = "dlc";
    private const string DataFrameManifest = "df";
    private const string FrameAckManifest = "ack";
    private const string CancelTransferManifest = "cancel";
    private const string ListObjectsManifest = "ls";
    private const string ObjectListingManifest = "lsok";
    private const string ListBucketsManifest = "lb";
    private const string BucketListingManifest = "lbok";
    private const string StatObjectManifest = "stat";
    private const string ObjectDetailsManifest = "statok";
    private const string DeleteObjectManifest = "rm";
    private const string ObjectDeletedManifest = "rmok";
    private const string StoreErrorManifest = "err";
    private const string ListMembersManifest = "members";
    private const string MemberListingManifest = "membersok";
    private const string GetNodeStatusManifest = "status";
    private const string NodeStatusManifest = "statusok";

    public override string Manifest(object o) => o switch
    {
        PutObject => PutObjectManifest,
        PutSmallObject => PutSmallObjectManifest,
        UploadReady => UploadReadyManifest,
        UploadComplete => UploadCompleteManifest,
        UploadProgress => UploadProgressManifest,
        PutCompleted => PutCompletedManifest,
        GetObject => GetObjectManifest,
        DownloadReady => DownloadReadyManifest,
        DownloadComplete => DownloadCompleteManifest,
        DataFrame => DataFrameManifest,
        FrameAck => FrameAckManifest,
        CancelTransfer => CancelTransferManifest,
        ListObjects => ListObjectsManifest,
        ObjectListing => ObjectListingManifest,
        ListBuckets => ListBucketsManifest,
        BucketListing => BucketListingManifest,
        StatObject => StatObjectManifest,
        ObjectDetails => ObjectDetailsManifest,
        DeleteObject => DeleteObjectManifest,
        ObjectDeleted => ObjectDeletedManifest,
        StoreError => StoreErrorManifest,
        ListMembers => ListMembersManifest,
        MemberListing => MemberListingManifest,
        GetNodeStatus => GetNodeStatusManifest,
        NodeStatus => NodeStatusManifest,
        _ => throw new ArgumentException($"{o.GetType()} is not a store protocol message", nameof(o)),
    };

    public override byte[] ToBinary(object obj)
    {
        if (obj is DataFrame frame)
        {
            // The hot path: one allocation, one copy of the payload.
            var bytes = new byte[8 + frame.Data.Length];
            BinaryPrimitives.WriteInt64LittleEndian(bytes, frame.Sequence);
            frame.Data.Span.CopyTo(bytes.AsSpan(8));
            return bytes;
        }

        var w = new WireWriter();
        switch (obj)
        {
            case PutObject m: w.String(m.Bucket); w.String(m.Key); w.Int64(m.ExpectedSize); break;
            case PutSmallObject m: w.String(m.Bucket); w.String(m.Key); w.Bytes(m.Data.ToArray()); break;
            case UploadReady m:
                w.String(ActorPath(m.Session));
                w.Int32(m.Window);
                w.Int32(m.FrameSize);
                w.String(m.DataHost);
                w.Int32(m.DataPort);
                w.Bytes(m.DataToken);
                w.String(m.HandOver);
                break;
            case UploadComplete m: w.Int64(m.TotalBytes); w.Int64(m.Frames); break;
            case UploadProgress m: w.Int64(m.Bytes); break;
            case PutCompleted m: WriteInfo(w, m.Object); w.Int64(m.NewChunkBytes); break;
            case GetObject m: w.String(m.Bucket); w.String(m.Key); w.Int32(m.Window); break;
            case DownloadReady m: WriteInfo(w, m.Object); w.String(ActorPath(m.Session)); w.String(m.DataHost); w.Int32(m.DataPort); w.Bytes(m.DataToken); break;
            case DownloadComplete m: w.Int64(m.TotalBytes); break;
            case FrameAck m: w.Int64(m.Sequence); break;
            case CancelTransfer m: w.String(m.Reason); break;
            case ListObjects m: w.String(m.Bucket); w.String(m.Prefix); w.NullableString(m.StartAfter); w.Int32(m.Limit); break;
            case ObjectListing m:
                w.String(m.Bucket);
                w.Int32(m.Objects.Count);
                foreach (var o in m.Objects) WriteInfo(w, o);
                w.Bool(m.Truncated);
                break;
            case ListBuckets: break;
            case BucketListing m:
                w.Int32(m.Buckets.Count);
                foreach (var b in m.Buckets) { w.String(b.Name); w.Int64(b.Objects); w.Int64(b.Bytes); }
                break;
            case StatObject m: w.String(m.Bucket); w.String(m.Key); w.Int32(m.FirstChunk); break;
            case ObjectDetails m:
                WriteInfo(w, m.Object);
                w.Int32(m.Chunks.Count);
                foreach (var c in m.Chunks)
                {
                    w.Hash(c.Id);
                    w.Int32(c.Length);
                    w.Int32(c.Nodes.Count);
                    foreach (var n in c.Nodes) w.String(n);
                }
                w.Int32(m.FirstChunk);
                break;
            case DeleteObject m: w.String(m.Bucket); w.String(m.Key); break;
            case ObjectDeleted m: w.String(m.Bucket); w.String(m.Key); break;
            case StoreError m: w.Byte((byte)m.Code); w.String(m.Message); break;
            case ListMembers: break;
            case GetNodeStatus: break;
            case NodeStatus m: w.String(m.NodeId); w.Int64(m.Objects); w.Int64(m.Chunks); break;
            case MemberListing m:
                w.Int32(m.Members.Count);
                foreach (var member in m.Members)
                {
                    w.String(member.Address);
                    w.String(member.Status);
                    w.Int32(member.Roles.Count);
                    foreach (var role in member.Roles) w.String(role);
                    w.String(member.NodeId);
                    w.Int64(member.Objects);
                    w.Int64(member.Chunks);
                }
                break;
            default: throw new ArgumentException($"{obj.GetType()} is not a store protocol message", nameof(obj));
        }
        return w.ToArray();
    }

    public override object FromBinary(byte[] bytes, string manifest) => SafeDecode.Run(Decode, bytes, manifest);

    private object Decode(byte[] bytes, string manifest)
    {
        if (manifest == DataFrameManifest)
        {
            if (bytes.Length < 8) throw new SerializationException("truncated data frame");
            if (bytes.Length - 8 > StoreSettings.MaxFrameSize) throw new SerializationException($"data frame of {bytes.Length - 8} bytes exceeds the limit");
            return new DataFrame(BinaryPrimitives.ReadInt64LittleEndian(bytes), bytes.AsMemory(8));
        }

        var r = new WireReader(bytes);
        object message = manifest switch
        {
            PutObjectManifest => new PutObject(r.String(), r.String(), r.Int64()),
            PutSmallObjectManifest => ReadSmallPut(ref r),
            UploadReadyManifest => new UploadReady(ResolveActor(r.String()), r.Int32(), r.Int32(), r.String(), r.Int32(), r.Bytes(), r.String()),
            UploadCompleteManifest => new UploadComplete(r.Int64(), r.Int64()),
            UploadProgressManifest => new UploadProgress(r.Int64()),
            PutCompletedManifest => new PutCompleted(ReadInfo(ref r), r.Int64()),
            GetObjectManifest => new GetObject(r.String(), r.String(), r.Int32()),
            DownloadReadyManifest => new DownloadReady(ReadInfo(ref r), ResolveActor(r.String()), r.String(), r.Int32(), r.Bytes()),
            DownloadCompleteManifest => new DownloadComplete(r.Int64()),
            FrameAckManifest => new FrameAck(r.Int64()),
            CancelTransferManifest => new CancelTransfer(r.String()),
            ListObjectsManifest => new ListObjects(r.String(), r.String(), r.NullableString(), r.Int32()),
            ObjectListingManifest => ReadListing(ref r),
            ListBucketsManifest => ListBuckets.Instance,
            BucketListingManifest => ReadBuckets(ref r),
            StatObjectManifest => new StatObject(r.String(), r.String(), r.Int32()),
            ObjectDetailsManifest => ReadDetails(ref r),
            DeleteObjectManifest => new DeleteObject(r.String(), r.String()),
            ObjectDeletedManifest => new ObjectDeleted(r.String(), r.String()),
            StoreErrorManifest => ReadError(ref r),
            ListMembersManifest => ListMembers.Instance,
            GetNodeStatusManifest => GetNodeStatus.Instance,
            NodeStatusManifest => new NodeStatus(r.String(), r.Int64(), r.Int64()),
            MemberListingManifest => ReadMembers(ref r),
            _ => throw new SerializationException($"unknown store message manifest '{manifest}'"),
        };
        r.End();
        return message;
    }

    private static PutSmallObject ReadSmallPut(ref WireReader r)
    {
        var bucket = r.String();
        var key = r.String();
        var data = r.Bytes();
        if (data.Length > StoreSettings.MaxFrameSize) throw new SerializationException($"small put of {data.Length} bytes exceeds the limit");
        return new PutSmallObject(bucket, key, data);
    }

    private static StoreError ReadError(ref WireReader r)
    {
        var code = r.Byte();
        if (!Enum.IsDefined(typeof(StoreErrorCode), code)) throw new SerializationException($"unknown error code {code}");
        return new StoreError((StoreErrorCode)code, r.String());
    }

    private static ObjectListing ReadListing(ref WireReader r)
    {
        var bucket = r.String();
        var count = r.Count(64);
        var objects = new List<ObjectInfo>(count);
        for (var i = 0; i < count; i++) objects.Add(ReadInfo(ref r));
        return new ObjectListing(bucket, objects, r.Bool());
    }

    private static MemberListing ReadMembers(ref WireReader r)
    {
        var count = r.Count(36);
        var members = new List<MemberInfo>(count);
        for (var i = 0; i < count; i++)
        {
            var address = r.String();
            var status = r.String();
            var roleCount = r.Count(4);
            var roles = new List<string>(roleCount);
            for (var j = 0; j < roleCount; j++) roles.Add(r.String());
            members.Add(new MemberInfo(address, status, roles, r.String(), r.Int64(), r.Int64()));
        }
        return new MemberListing(members);
    }

    private static BucketListing ReadBuckets(ref WireReader r)
    {
        var count = r.Count(20);
        var buckets = new List<BucketInfo>(count);
        for (var i = 0; i < count; i++) buckets.Add(new BucketInfo(r.String(), r.Int64(), r.Int64()));
        return new BucketListing(buckets);
    }

    private static ObjectDetails ReadDetails(ref WireReader r)
    {
        var info = ReadInfo(ref r);
        var count = r.Count(40);
        var chunks = new List<ChunkLocation>(count);
        for (var i = 0; i < count; i++)
        {
            var id = r.Hash();
            var length = r.Int32();
            var nodeCount = r.Count(4);
            var nodes = new List<string>(nodeCount);
            for (var n = 0; n < nodeCount; n++) nodes.Add(r.String());
            chunks.Add(new ChunkLocation(id, length, nodes));
        }
        return new ObjectDetails(info, chunks, r.Int32());
    }

    internal static void WriteInfo(WireWriter w, ObjectInfo o)
    {
        w.String(o.Bucket);
        w.String(o.Key);
        w.String(o.VersionId);
        w.Int64(o.Size);
        w.Hash(o.Sha256);
        w.Int64(o.CreatedUnixMs);
        w.Int32(o.ChunkCount);
        w.String(o.Writer);
    }

    internal static ObjectInfo ReadInfo(ref WireReader r) =>
        new(r.String(), r.String(), r.String(), r.Int64(), r.Hash(), r.Int64(), r.Int32(), r.String());

    private static string ActorPath(IActorRef actor) => Akka.Serialization.Serialization.SerializedActorPath(actor);

    private IActorRef ResolveActor(string path) => system.Provider.ResolveActorRef(path);
}
