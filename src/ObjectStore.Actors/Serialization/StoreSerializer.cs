using System.Runtime.Serialization;
using Akka.Actor;
using Google.Protobuf;
using ObjectStore.Actors.Protocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Serialization.WireMapping;
using W = ObjectStore.Actors.Protocol.Wire;

namespace ObjectStore.Actors.Serialization;

/// <summary>The shell ↔ node protocol (store.proto), bound to <see cref="IStoreMessage"/> in akka.hocon.</summary>
public sealed class StoreSerializer : ProtoSerializer
{
    public const int SerializerId = 1701;

    public override int Identifier => SerializerId;

    public StoreSerializer(ExtendedActorSystem system) : base(system, "store")
    {
        Message<PutObject, W.PutObject>("put", W.PutObject.Parser,
            m => new() { Bucket = m.Bucket, Key = m.Key, ExpectedSize = m.ExpectedSize, File = File(m.File) },
            w => new(w.Bucket, w.Key, w.ExpectedSize, File(w.File)));
        Raw<PutSmallObject>("putsmall",
            m => new W.PutSmallObject { Bucket = m.Bucket, Key = m.Key, Data = Wrap(m.Data), File = File(m.File) }.ToByteArray(),
            ReadSmallPut);
        Message<UploadReady, W.UploadReady>("upr", W.UploadReady.Parser,
            m => new()
            {
                Session = PathOf(m.Session), Window = m.Window, FrameSize = m.FrameSize, DataHost = m.DataHost, DataPort = m.DataPort,
                DataToken = ByteString.CopyFrom(m.DataToken), HandOver = m.HandOver,
            },
            w => new(Resolve(w.Session), w.Window, w.FrameSize, w.DataHost, w.DataPort, w.DataToken.ToByteArray(), w.HandOver));
        Message<UploadProgress, W.UploadProgress>("upp", W.UploadProgress.Parser, m => new() { Bytes = m.Bytes }, w => new(w.Bytes));
        Message<UploadComplete, W.UploadComplete>("upc", W.UploadComplete.Parser,
            m => new() { TotalBytes = m.TotalBytes, Frames = m.Frames }, w => new(w.TotalBytes, w.Frames));
        Message<PutCompleted, W.PutCompleted>("putok", W.PutCompleted.Parser,
            m => new() { Object = Info(m.Object), NewChunkBytes = m.NewChunkBytes, Copies = m.Copies, Factor = m.Factor, Queued = m.Queued },
            w => new(Info(w.Object), w.NewChunkBytes, w.Copies, w.Factor, w.Queued));
        Message<GetObject, W.GetObject>("get", W.GetObject.Parser,
            m => new() { Bucket = m.Bucket, Key = m.Key, Window = m.Window }, w => new(w.Bucket, w.Key, w.Window));
        Message<DownloadReady, W.DownloadReady>("dlr", W.DownloadReady.Parser,
            m => new()
            {
                Object = Info(m.Object), Session = PathOf(m.Session), DataHost = m.DataHost, DataPort = m.DataPort,
                DataToken = ByteString.CopyFrom(m.DataToken), HandOver = m.HandOver,
            },
            w => new(Info(w.Object), Resolve(w.Session), w.DataHost, w.DataPort, w.DataToken.ToByteArray(), w.HandOver));
        Message<DownloadComplete, W.DownloadComplete>("dlc", W.DownloadComplete.Parser,
            m => new() { TotalBytes = m.TotalBytes, Sha256 = m.WrittenSha256 is { } h ? Bytes(h) : ByteString.Empty, ChunksChecked = m.ChunksChecked },
            w => new(w.TotalBytes, w.Sha256.IsEmpty ? null : Hash(w.Sha256, "written hash"), w.ChunksChecked));
        Raw<DataFrame>("df", m => new W.DataFrame { Sequence = m.Sequence, Data = Wrap(m.Data) }.ToByteArray(), ReadFrame);
        Message<FrameAck, W.FrameAck>("ack", W.FrameAck.Parser, m => new() { Sequence = m.Sequence }, w => new(w.Sequence));
        Message<CancelTransfer, W.CancelTransfer>("cancel", W.CancelTransfer.Parser, m => new() { Reason = m.Reason }, w => new(w.Reason));
        StoreQueryMessages.Register(this);
        StoreBatchMessages.Register(this);
        StoreHealthMessages.Register(this);
    }

    private static PutSmallObject ReadSmallPut(byte[] bytes)
    {
        var fields = new WireFields(bytes);
        string bucket = "", key = "";
        ReadOnlyMemory<byte> data = default;
        W.FileMetadata? file = null;
        while (fields.Next(out var field, out var type))
        {
            switch (field)
            {
                case 1: WireFields.Expect(type, WireFormat.WireType.LengthDelimited, field); bucket = fields.String(); break;
                case 2: WireFields.Expect(type, WireFormat.WireType.LengthDelimited, field); key = fields.String(); break;
                case 3: WireFields.Expect(type, WireFormat.WireType.LengthDelimited, field); data = fields.Bytes(); break;
                case 4: WireFields.Expect(type, WireFormat.WireType.LengthDelimited, field); file = W.FileMetadata.Parser.ParseFrom(fields.Bytes().Span); break;
                default: fields.Skip(type); break;
            }
        }
        if (data.Length > StoreSettings.MaxFrameSize) throw new SerializationException($"small put of {data.Length} bytes exceeds the limit");
        return new PutSmallObject(bucket, key, data, File(file));
    }

    private static DataFrame ReadFrame(byte[] bytes)
    {
        var fields = new WireFields(bytes);
        long sequence = 0;
        ReadOnlyMemory<byte> data = default;
        while (fields.Next(out var field, out var type))
        {
            switch (field)
            {
                case 1: WireFields.Expect(type, WireFormat.WireType.Varint, field); sequence = fields.Int64(); break;
                case 2: WireFields.Expect(type, WireFormat.WireType.LengthDelimited, field); data = fields.Bytes(); break;
                default: fields.Skip(type); break;
            }
        }
        if (data.Length > StoreSettings.MaxFrameSize) throw new SerializationException($"data frame of {data.Length} bytes exceeds the limit");
        return new DataFrame(sequence, data);
    }
}
