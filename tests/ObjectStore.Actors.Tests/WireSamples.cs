using System.Collections;
using System.Reflection;
using Akka.Actor;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;
using static ObjectStore.Actors.Protocol.ReplicaProtocol;
using ObjectStore.Core.Sync;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Tests;

/// <summary>
/// One or more sample values of every message that crosses a process boundary, named after its
/// manifest. Their bytes are checked in under Golden/ (see WireGoldenTests): a change that alters what
/// goes on the wire fails there, on purpose.
/// </summary>
public static class WireSamples
{
    public sealed record Sample(string Protocol, string Name, Func<Func<string, IActorRef>, object> Make)
    {
        public override string ToString() => $"{Protocol}/{Name}";
    }

    private static readonly ContentHash A = ContentHash.Compute([1]), B = ContentHash.Compute([2]);
    private static readonly ObjectInfo Info = new("photos", "a/ü b.jpg", "0192abcd", 300, ContentHash.Compute([3]), 1_700_000_000_000, 2, "node-a");
    private static readonly ObjectManifest Manifest = new("photos", "a/ü b.jpg", "0192abcd", 300, ContentHash.Compute([3]),
        DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123), [new ChunkRef(A, 100), new ChunkRef(B, 200)], "node-a");
    private static readonly Core.Storage.FileMetadata File = new(0b111_101_101, 1_557_126_489_123_456_789);
    private static readonly DeleteMarker Marker = new("photos", "k", "0192abce", DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_999), "node-b");
    private const string Session = "akka.tcp://objectstore@127.0.0.1:4053/user/store/put-7#1234";
    private const string Receiver = "akka.tcp://objectstore@127.0.0.1:4054/user/replicator/receive-3#5678";

    private static readonly DataRoute Route = new("10.0.0.7", 40123, Enumerable.Range(1, 16).Select(i => (byte)i).ToArray());

    private static Sample S(string name, object message) => new("store", name, _ => message);
    private static Sample C(string name, object message) => new("chunks", name, _ => message);
    private static readonly Protocol.NodeHealth Health = new("node-1", "akka.tcp://objectstore@127.0.0.1:4053", "Up", true, 3, 40, 2, 3_000_000,
        [new Protocol.PeerBacklog("node-2", 1, 1_000_000), new Protocol.PeerBacklog("", 1, 2_000_000)], 1, 7, 9_000_000, 2, 1_500_000.5, 104_857_600,
        "photos/x on node-2: node-2 is unreachable", 1_764_600_000_000, 12, 3, true, 1_764_500_000_000, 30, 10, 1, 1);

    private static Sample R(string name, object message) => new("replicas", name, _ => message);

    public static IReadOnlyList<Sample> All { get; } =
    [
        S("put", new PutObject("photos", "k", 42)),
        S("put-file", new PutObject("photos", "k", 42, File)),
        S("putsmall", new PutSmallObject("photos", "k", new byte[] { 1, 2, 3, 250 })),
        S("putsmall-file", new PutSmallObject("photos", "k", new byte[] { 1, 2, 3, 250 }, File)),
        S("putmany", new PutSmallObjects([new PutSmallObject("photos", "a", new byte[] { 1, 2 }, File), new PutSmallObject("photos", "b", Array.Empty<byte>())])),
        S("getmany", new GetSmallObjects("photos", ["a", "b/ü", "c"])),
        S("getmanyok", new SmallObjectsFound([new SmallGetOutcome("a", Info with { Size = 2 }, new byte[] { 1, 2 }, true, null),
            new SmallGetOutcome("b/ü", Info, default, false, null),
            new SmallGetOutcome("c", null, default, false, new StoreError(StoreErrorCode.NotFound, "photos/c: no such object"))])),
        S("putmany-alone-ok", new PutSmallObjects([new PutSmallObject("photos", "a", new byte[] { 1, 2 }, File)], AloneOk: true)),
        S("putfiles", new PutSmallFiles([new PutSmallObject("photos", "a", ReadOnlyMemory<byte>.Empty, File), new PutSmallObject("photos", "b/ü", ReadOnlyMemory<byte>.Empty)])),
        S("putmanyok-alone", new SmallPutsDone([new SmallPutOutcome("photos", "a", new PutCompleted(Info, 2, 1, 1), null),
            new SmallPutOutcome("photos", "big", null, null, Alone: true)])),
        S("getmany-files", new GetSmallObjects("photos", ["a", "b/ü"], IntoFiles: true)),
        new("store", "filesready", actor => new FilesReady(actor(Session), "objectstore-ab12", [6, 7, 8])),
        S("filesgo", new FilesHandedOver()),
        S("getmanyok-infile", new SmallObjectsFound([new SmallGetOutcome("a", Info, default, false, null, InFile: true),
            new SmallGetOutcome("b/ü", null, default, false, new StoreError(StoreErrorCode.Corrupt, "photos/b/ü: no intact copy"))])),
        S("putmanyok", new SmallPutsDone([new SmallPutOutcome("photos", "a", new PutCompleted(Info, 2, 3, 3), null),
            new SmallPutOutcome("photos", "b", null, new StoreError(StoreErrorCode.StorageFailure, "put of photos/b failed: disk full; nothing was stored"))])),
        new("store", "upr", actor => new UploadReady(actor(Session), 32, 65536, "127.0.0.1", 4321, [1, 2, 3], "objectstore-ab12")),
        S("upp", new UploadProgress(16_777_216)),
        S("upc", new UploadComplete(10, 1)),
        S("upc-data-port", new UploadComplete(1 << 30, UploadComplete.ViaDataPort)),
        S("putok", new PutCompleted(Info, 99)),
        S("putok-queued", new PutCompleted(Info, 99, 2, 3, 1)),
        S("get", new GetObject("photos", "k", 32)),
        new("store", "dlr", actor => new DownloadReady(Info, actor(Session), "127.0.0.1", 4322, [4, 5])),
        S("dlc", new DownloadComplete(12345)),
        S("dlc-chunks-checked", new DownloadComplete(12345, ChunksChecked: true)),
        S("df", new DataFrame(12, new byte[] { 9, 8, 7 })),
        S("ack", new FrameAck(7)),
        S("ack-frames-please", new FrameAck(-1)),
        S("cancel", new CancelTransfer("bye")),
        S("ls", new ListObjects("photos", "a/", null, 100)),
        S("ls-after", new ListObjects("photos", "", "a/b", 5)),
        S("lsok", new ObjectListing("photos", [Info, Info with { Key = "other" }], true)),
        S("lsok-file", new ObjectListing("photos", [Info with { File = File }], false)),
        S("lb", ListBuckets.Instance),
        S("lbok", new BucketListing([new BucketInfo("photos", 3, 300)])),
        S("stat", new StatObject("photos", "k", 2000)),
        S("statok", new ObjectDetails(Info, [new ChunkLocation(A, 100, ["node-a", "node-b"])], 0)),
        S("rm", new DeleteObject("photos", "k")),
        S("rmok", new ObjectDeleted("photos", "k")),
        S("err", new StoreError(StoreErrorCode.Corrupt, "chunk is bad")),
        S("err-unsupported", new StoreError(StoreErrorCode.Unsupported, "too new")),
        S("members", ListMembers.Instance),
        S("membersok", new MemberListing([new Protocol.MemberInfo("akka.tcp://objectstore@127.0.0.1:4053", "Up", ["storage"], "node-1", 3, 40)])),
        S("status", GetNodeStatus.Instance),
        S("statusok", new NodeStatus("node-1", 3, 40)),
        S("chealth", GetClusterHealth.Instance),
        S("leave", LeaveCluster.Instance),
        S("leaveok", new LeaveAccepted("node-1", 12)),
        S("healthok-draining", Health with { Draining = true }),
        S("health", GetNodeHealth.Instance),
        S("healthok", Health),
        S("chealthok", new ClusterHealth([Health, new Protocol.NodeHealth("node-3", "akka.tcp://objectstore@127.0.0.1:4055", "Up (unreachable)", false)])),

        C("offer", new OfferChunk(42, "upload-1", A, 1000)),
        C("present", new ChunkPresent(42)),
        new("chunks", "send", actor => new SendChunk(42, actor(Receiver))),
        new("chunks", "send-route", actor => new SendChunk(42, actor(Receiver), Route)),
        C("part", new ChunkPart(42, 65536, new byte[] { 5, 6, 7 })),
        C("partack", new ChunkPartAck(42, 65536)),
        C("durable", new ChunkDurable(42)),
        C("xfail", new TransferFailed(42, StoreErrorCode.StorageFailure, "disk full")),
        new("chunks", "fetch", actor => new FetchChunk(43, B, actor(Receiver))),
        new("chunks", "fetch-route", actor => new FetchChunk(43, B, actor(Receiver), Route)),
        new("chunks", "fetch-checked-here", actor => new FetchChunk(43, B, actor(Receiver), Route, FetcherChecks: true)),
        new("chunks", "checkchunk", actor => new CheckChunk(43, B, actor(Receiver))),
        C("which", new WhichChunks([A, B])),
        C("storemany", new StoreChunks(44, [new InlineChunk(A, "upload-1", new byte[] { 1 }), new InlineChunk(B, "upload-2", new byte[] { 2 })])),
        C("storedmany", new ChunksStored(44, [new ChunkOutcome(A, null), new ChunkOutcome(B, "disk full", StoreErrorCode.StorageFailure)])),
        C("storedmany-written", new ChunksStored(44, [new ChunkOutcome(A, null, Written: true), new ChunkOutcome(B, null)])),
        C("held", new ChunksHeld("node-b", [B])),

        R("commit", new CommitReplica(Manifest, "upload-1")),
        R("commit-file", new CommitReplica(Manifest with { File = File }, "upload-1")),
        R("commit-staged", new CommitReplica(Manifest with { Chunks = [] }, "upload-1", ChunksStaged: true)),
        R("stage", new StageChunks("upload-1", "0192abcd", 2000, [new ChunkRef(A, 100), new ChunkRef(B, 200)])),
        R("stageok", new ChunksStaged("0192abcd", 2002)),
        R("commitok", new ReplicaCommitted("0192abcd", true)),
        R("commitok-missing", new ReplicaCommitted("0192abcd", true, [A, B])),
        R("commitmany", new CommitReplicas([new CommitReplica(Manifest, "upload-1"), new CommitReplica(Manifest with { Key = "b", File = File }, "upload-2")])),
        R("commitmanyok", new ReplicasCommitted([new ReplicaCommitted("0192abcd", true, [A]), new StoreError(StoreErrorCode.InvalidRequest, "invalid key")])),
        R("drop", new DropReplica("photos", "k", "0192abcd")),
        R("dropok", new ReplicaDropped("0192abcd")),
        R("release", new ReleaseReplicaUpload("upload-1")),
        R("find", new FindManifest("photos", "k")),
        R("findok", new ManifestReply("node-a", Manifest, 2)),
        R("findok-first-page", new ManifestReply("node-a", Manifest with { Chunks = [new ChunkRef(A, 100)] }, 2)),
        R("findok-none", new ManifestReply("node-a", null, 0)),
        R("findok-deleted", new ManifestReply("node-a", null, 0, Marker)),
        R("findmany", new FindManifests("photos", ["a", "b"])),
        R("findmanyok", new ManifestReplies([new ManifestReply("node-a", Manifest, 2), new ManifestReply("node-a", null, 0, Marker)])),
        R("findpage", new FindManifestChunks("photos", "k", "0192abcd", 2000)),
        R("findpageok", new ManifestChunks("0192abcd", 2000, [new ChunkRef(B, 200)])),
        R("lsl", new ListLocalObjects("photos", "a/", "a/b", 10)),
        R("lsl-from-start", new ListLocalObjects("photos", "", null, 10)),
        R("lslok", new LocalListing("photos", [Info], [Marker with { Key = "b" }], true)),
        R("lbl", ListLocalBuckets.Instance),
        R("rml", new DeleteLocal(Marker)),
        R("drain", new NodeDraining("node-a", true, 30)),
        R("sync", new SyncDigests("session-1", "node-a", [new RangeDigest(HashRange.Root, 100_000, 0x0123456789abcdef),
            new RangeDigest(new HashRange(0xa7, 2), 390, 42)])),
        R("syncok", new SyncAnswers("session-1", [
            new RangeAnswer(HashRange.Root, HashRange.Root.Children().Select((c, i) => new RangeDigest(c, i, (ulong)i * 7)).ToList(), null),
            new RangeAnswer(new HashRange(0xa7, 2), null, [0xa700000000000001, 0xa7ffffffffffffff]),
            new RangeAnswer(new HashRange(0xa8, 2), null, [])])),
    ];

    /// <summary>A message's whole value as text (lists spelled out, actor refs by path), for comparing decoded messages.</summary>
    public static string Describe(object? value) => value switch
    {
        null => "null",
        string s => $"\"{s}\"",
        IActorRef a => $"actor {a.Path.ToSerializationFormat()}",
        ReadOnlyMemory<byte> m => Convert.ToHexString(m.Span),
        byte[] b => Convert.ToHexString(b),
        ContentHash h => h.ToString(),
        DateTimeOffset d => d.ToUnixTimeMilliseconds().ToString(),
        ChunkRef c => $"{c.Id}:{c.Length}",
        Enum or bool or int or long => value.ToString()!,
        IEnumerable e => "[" + string.Join(", ", e.Cast<object?>().Select(Describe)) + "]",
        _ => value.GetType().Name + " { " + string.Join(", ", value.GetType()
            .GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0)
            .Select(p => $"{p.Name} = {Describe(p.GetValue(value))}")) + " }",
    };

    /// <summary>Every message type of the three wire protocols.</summary>
    public static IEnumerable<Type> WireTypes() => typeof(IStoreMessage).Assembly.GetTypes()
        .Where(t => !t.IsInterface && !t.IsAbstract
            && (typeof(IStoreMessage).IsAssignableFrom(t) || typeof(IChunkTransferMessage).IsAssignableFrom(t) || typeof(IReplicaMessage).IsAssignableFrom(t)));
}
