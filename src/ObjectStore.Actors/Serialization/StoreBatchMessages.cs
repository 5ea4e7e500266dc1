using System.Runtime.Serialization;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Serialization.WireMapping;
using W = ObjectStore.Actors.Protocol.Wire;

namespace ObjectStore.Actors.Serialization;

/// <summary>Puts and gets of many small objects in one request (putmany, getmany) and their outcomes.</summary>
internal static class StoreBatchMessages
{
    public static void Register(StoreSerializer s)
    {
        s.Message<PutSmallObjects, W.PutSmallObjects>("putmany", W.PutSmallObjects.Parser,
            m => new() { Objects = { m.Objects.Select(o => new W.PutSmallObject { Bucket = o.Bucket, Key = o.Key, Data = Wrap(o.Data), File = File(o.File) }) }, AloneOk = m.AloneOk },
            w =>
            {
                // A forged request cannot make a node hold more than one frame of small objects at once.
                if (w.Objects.Count > PutSmallObjects.MaxObjects)
                    throw new SerializationException($"{w.Objects.Count} objects in one request (at most {PutSmallObjects.MaxObjects})");
                if (w.Objects.Sum(o => (long)o.Data.Length) > Actors.StoreSettings.MaxFrameSize)
                    throw new SerializationException("small objects of more than a frame in one request");
                return new(w.Objects.Select(o => new PutSmallObject(o.Bucket, o.Key, o.Data.Memory, File(o.File))).ToList(), w.AloneOk);
            });
        s.Message<PutSmallFiles, W.PutSmallFiles>("putfiles", W.PutSmallFiles.Parser,
            m => new() { Objects = { m.Objects.Select(o => new W.PutSmallObject { Bucket = o.Bucket, Key = o.Key, File = File(o.File) }) } },
            w => w.Objects.Count <= PutSmallObjects.MaxObjects && w.Objects.All(o => o.Data.IsEmpty)
                ? new(w.Objects.Select(o => new PutSmallObject(o.Bucket, o.Key, ReadOnlyMemory<byte>.Empty, File(o.File))).ToList())
                : throw new SerializationException($"a put of small files names at most {PutSmallObjects.MaxObjects} objects, without their bytes"));
        s.Message<GetSmallObjects, W.GetSmallObjects>("getmany", W.GetSmallObjects.Parser,
            m => new() { Bucket = m.Bucket, Keys = { m.Keys }, IntoFiles = m.IntoFiles },
            w => w.Keys.Count <= GetSmallObjects.MaxKeys ? new(w.Bucket, w.Keys.ToList(), w.IntoFiles)
                : throw new SerializationException($"{w.Keys.Count} keys in one request (at most {GetSmallObjects.MaxKeys})"));
        s.Message<FilesReady, W.FilesReady>("filesready", W.FilesReady.Parser,
            m => new() { Batch = s.PathOf(m.Batch), HandOver = m.HandOver, Token = Google.Protobuf.ByteString.CopyFrom(m.Token) },
            w => new(s.Resolve(w.Batch), w.HandOver, w.Token.ToByteArray()));
        s.Message<FilesHandedOver, W.FilesHandedOver>("filesgo", W.FilesHandedOver.Parser, _ => new(), _ => new());
        s.Message<SmallObjectsFound, W.SmallObjectsFound>("getmanyok", W.SmallObjectsFound.Parser,
            m => new() { Outcomes = { m.Outcomes.Select(ToWire) } },
            w => new(w.Outcomes.Select(FromWire).ToList()));
        s.Message<SmallPutsDone, W.SmallPutsDone>("putmanyok", W.SmallPutsDone.Parser,
            m => new() { Outcomes = { m.Outcomes.Select(ToWire) } },
            w => new(w.Outcomes.Select(FromWire).ToList()));
    }

    private static W.SmallPutOutcome ToWire(SmallPutOutcome o)
    {
        var w = new W.SmallPutOutcome { Bucket = o.Bucket, Key = o.Key, Alone = o.Alone };
        if (o.Done is { } d) w.Done = new W.PutCompleted { Object = Info(d.Object), NewChunkBytes = d.NewChunkBytes, Copies = d.Copies, Factor = d.Factor, Queued = d.Queued };
        if (o.Error is { } e) w.Error = new W.StoreError { Code = Code(e.Code), Message = e.Message };
        return w;
    }

    private static W.SmallGetOutcome ToWire(SmallGetOutcome o)
    {
        var w = new W.SmallGetOutcome { Key = o.Key, Data = Wrap(o.Data), Whole = o.Whole, InFile = o.InFile };
        if (o.Object is { } info) w.Object = Info(info);
        if (o.Error is { } e) w.Error = new W.StoreError { Code = Code(e.Code), Message = e.Message };
        return w;
    }

    /// <summary>Whole data must be the object's size: a reply cannot pass off part of an object as all of it.</summary>
    private static SmallGetOutcome FromWire(W.SmallGetOutcome w)
    {
        if ((w.Object is null) == (w.Error is null)) throw new SerializationException($"outcome of {w.Key} must be either found or failed");
        var info = w.Object is null ? null : Info(w.Object);
        if (w.Whole && w.Data.Length != info!.Size) throw new SerializationException($"{w.Key}: {w.Data.Length} bytes for an object of {info.Size}");
        if (w.InFile && (info is null || w.Whole || !w.Data.IsEmpty)) throw new SerializationException($"{w.Key}: written into its file, yet with bytes or without its info");
        return new(w.Key, info, w.Data.Memory, w.Whole, w.Error is { } e ? new StoreError(Code(e.Code), e.Message) : null, w.InFile);
    }

    private static SmallPutOutcome FromWire(W.SmallPutOutcome w)
    {
        if (w.Alone ? w.Done is not null || w.Error is not null : (w.Done is null) == (w.Error is null))
            throw new SerializationException($"outcome of {w.Bucket}/{w.Key} must be either stored, failed, or left to a put of its own");
        return new(w.Bucket, w.Key,
            w.Done is { } d ? new PutCompleted(Info(d.Object), d.NewChunkBytes, d.Copies, d.Factor, d.Queued) : null,
            w.Error is { } e ? new StoreError(Code(e.Code), e.Message) : null, w.Alone);
    }
}
