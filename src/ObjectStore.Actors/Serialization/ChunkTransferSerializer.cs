using System.Runtime.Serialization;
using Akka.Actor;
using Google.Protobuf;
using ObjectStore.Actors.Protocol;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;
using static ObjectStore.Actors.Serialization.WireMapping;
using W = ObjectStore.Actors.Protocol.Wire;

namespace ObjectStore.Actors.Serialization;

/// <summary>The node ↔ node chunk transfer protocol (chunks.proto), bound to <see cref="IChunkTransferMessage"/> in akka.hocon.</summary>
public sealed class ChunkTransferSerializer : ProtoSerializer
{
    public const int SerializerId = 1702;

    public override int Identifier => SerializerId;

    public ChunkTransferSerializer(ExtendedActorSystem system) : base(system, "chunk transfer")
    {
        Message<OfferChunk, W.OfferChunk>("offer", W.OfferChunk.Parser,
            m => new() { TransferId = m.TransferId, UploadId = m.UploadId, Id = Bytes(m.Id), Length = m.Length },
            w => new(w.TransferId, w.UploadId, Hash(w.Id, "chunk id"), w.Length));
        Message<ChunkPresent, W.ChunkPresent>("present", W.ChunkPresent.Parser, m => new() { TransferId = m.TransferId }, w => new(w.TransferId));
        Message<SendChunk, W.SendChunk>("send", W.SendChunk.Parser,
            m => new() { TransferId = m.TransferId, Receiver = PathOf(m.Receiver), Route = Route(m.Route) },
            w => new(w.TransferId, Resolve(w.Receiver), Route(w.Route)));
        Raw<ChunkPart>("part", m => new W.ChunkPart { TransferId = m.TransferId, Offset = m.Offset, Data = Wrap(m.Data) }.ToByteArray(), ReadPart);
        Message<ChunkPartAck, W.ChunkPartAck>("partack", W.ChunkPartAck.Parser,
            m => new() { TransferId = m.TransferId, Received = m.Received }, w => new(w.TransferId, w.Received));
        Message<ChunkDurable, W.ChunkDurable>("durable", W.ChunkDurable.Parser, m => new() { TransferId = m.TransferId }, w => new(w.TransferId));
        Message<TransferFailed, W.TransferFailed>("xfail", W.TransferFailed.Parser,
            m => new() { TransferId = m.TransferId, Code = Code(m.Code), Reason = m.Reason }, w => new(w.TransferId, Code(w.Code), w.Reason));
        Message<FetchChunk, W.FetchChunk>("fetch", W.FetchChunk.Parser,
            m => new() { TransferId = m.TransferId, Id = Bytes(m.Id), Receiver = PathOf(m.Receiver), Route = Route(m.Route), FetcherChecks = m.FetcherChecks },
            w => new(w.TransferId, Hash(w.Id, "chunk id"), Resolve(w.Receiver), Route(w.Route), w.FetcherChecks));
        Message<CheckChunk, W.CheckChunk>("checkchunk", W.CheckChunk.Parser,
            m => new() { TransferId = m.TransferId, Id = Bytes(m.Id), Receiver = PathOf(m.Receiver) },
            w => new(w.TransferId, Hash(w.Id, "chunk id"), Resolve(w.Receiver)));
        Message<StoreChunks, W.StoreChunks>("storemany", W.StoreChunks.Parser,
            m => new() { TransferId = m.TransferId, Chunks = { m.Chunks.Select(c => new W.InlineChunk { Id = Bytes(c.Id), UploadId = c.UploadId, Data = Wrap(c.Data) }) } },
            w =>
            {
                // A forged batch cannot make a node hold more than a frame of chunks at once.
                if (w.Chunks.Count > StoreChunks.MaxChunks) throw new SerializationException($"{w.Chunks.Count} chunks in one batch (at most {StoreChunks.MaxChunks})");
                if (w.Chunks.Sum(c => (long)c.Data.Length) > StoreSettings.MaxFrameSize) throw new SerializationException("chunks of more than a frame in one batch");
                return new(w.TransferId, w.Chunks.Select(c => new InlineChunk(Hash(c.Id, "chunk id"), c.UploadId, c.Data.Memory)).ToList());
            });
        Message<ChunksStored, W.ChunksStored>("storedmany", W.ChunksStored.Parser,
            m => new()
            {
                TransferId = m.TransferId,
                Outcomes = { m.Outcomes.Select(o => new W.ChunkOutcome { Id = Bytes(o.Id), Stored = o.Failure is null, Code = Code(o.Code), Reason = o.Failure ?? "", Written = o.Failure is null && o.Written }) },
            },
            w => new(w.TransferId, w.Outcomes.Select(o => new ChunkOutcome(Hash(o.Id, "chunk id"), o.Stored ? null : o.Reason, Code(o.Code), o.Stored && o.Written)).ToList()));
        Message<WhichChunks, W.WhichChunks>("which", W.WhichChunks.Parser, m => new() { Ids = Hashes(m.Ids) }, w => new(Hashes(w.Ids)));
        Message<ChunksHeld, W.ChunksHeld>("held", W.ChunksHeld.Parser,
            m => new() { NodeId = m.NodeId, Ids = Hashes(m.Ids) }, w => new(w.NodeId, Hashes(w.Ids)));
    }

    private static W.DataRoute? Route(DataRoute? route) =>
        route is null ? null : new W.DataRoute { Host = route.Host, Port = route.Port, Token = ByteString.CopyFrom(route.Token) };

    /// <summary>A route from the network: a token of the wrong size or an impossible port is refused while decoding.</summary>
    private static DataRoute? Route(W.DataRoute? route)
    {
        if (route is null) return null;
        if (route.Token.Length != Transfer.DataPlane.TokenSize)
            throw new SerializationException($"data route token of {route.Token.Length} bytes (must be {Transfer.DataPlane.TokenSize})");
        if (route.Port is < 1 or > 65535) throw new SerializationException($"data route port {route.Port} is not a port");
        if (route.Host.Length is 0 or > 253) throw new SerializationException("data route without a valid host");
        return new DataRoute(route.Host, route.Port, route.Token.ToByteArray());
    }

    private static ChunkPart ReadPart(byte[] bytes)
    {
        var fields = new WireFields(bytes);
        long transfer = 0;
        var offset = 0;
        ReadOnlyMemory<byte> data = default;
        while (fields.Next(out var field, out var type))
        {
            switch (field)
            {
                case 1: WireFields.Expect(type, WireFormat.WireType.Varint, field); transfer = fields.Int64(); break;
                case 2: WireFields.Expect(type, WireFormat.WireType.Varint, field); offset = fields.Int32(); break;
                case 3: WireFields.Expect(type, WireFormat.WireType.LengthDelimited, field); data = fields.Bytes(); break;
                default: fields.Skip(type); break;
            }
        }
        if (offset < 0) throw new SerializationException($"chunk part at negative offset {offset}");
        if (data.Length > StoreSettings.MaxFrameSize) throw new SerializationException($"chunk part of {data.Length} bytes exceeds the limit");
        return new ChunkPart(transfer, offset, data);
    }
}
