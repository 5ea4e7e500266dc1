using Akka.Actor;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Storage;

namespace ObjectStore.Actors.Protocol;

/// <summary>Marks the messages that cross the network between a shell and a node; all have a binary serializer.</summary>
public interface IStoreMessage;

public enum StoreErrorCode
{
    InvalidRequest = 1,
    NotFound = 2,
    Corrupt = 3,
    StorageFailure = 4,
    Timeout = 5,
    Cancelled = 6,
    Unavailable = 7,
    /// <summary>The receiver does not know this kind of message (it runs an older version).</summary>
    Unsupported = 8,
}

public static class StoreErrorCodes
{
    /// <summary>The error code of several failures when they agree (a disk error on every node is a storage failure), else Unavailable.</summary>
    public static StoreErrorCode SingleOr(IEnumerable<StoreErrorCode> codes)
    {
        var distinct = codes.Distinct().Take(2).ToList();
        return distinct.Count == 1 ? distinct[0] : StoreErrorCode.Unavailable;
    }
}

/// <summary>An object as the shell sees it.</summary>
/// <param name="Writer">The node id of the node that took the put (last writer wins between versions).</param>
public sealed record ObjectInfo(string Bucket, string Key, string VersionId, long Size, ContentHash Sha256, long CreatedUnixMs, int ChunkCount, string Writer = "",
    FileMetadata? File = null);

/// <summary>One chunk of an object and the nodes that hold it.</summary>
public sealed record ChunkLocation(ContentHash Id, int Length, IReadOnlyList<string> Nodes);

public sealed record BucketInfo(string Name, long Objects, long Bytes);

/// <summary>Copies a node has queued for one target node (empty id: no node for them yet).</summary>
public sealed record PeerBacklog(string NodeId, long Copies, long Bytes);

/// <summary>
/// One node's self-healing state as `status` shows it: its repair queue (copies short somewhere, what it has
/// repaired and how fast), its last anti-entropy pass and its scrubber. <paramref name="Answered"/> false: only
/// the first four fields are known. Times are unix milliseconds, 0 for never.
/// </summary>
public sealed record NodeHealth(string NodeId, string Address, string Status, bool Answered, long Objects = 0, long Chunks = 0,
    long CopiesQueued = 0, long BytesQueued = 0, IReadOnlyList<PeerBacklog>? Backlog = null, int RepairsRunning = 0, long CopiesMade = 0,
    long BytesRepaired = 0, long RepairFailures = 0, double RepairBytesPerSecond = 0, long RepairRateLimit = 0, string LastRepairError = "",
    long LastAntiEntropyMs = 0, long AntiEntropyPasses = 0, long AntiEntropyDifferences = 0,
    bool Scrubbing = false, long LastScrubMs = 0, long ScrubChecked = 0, long ScrubLeft = 0, long CorruptFound = 0, long Quarantined = 0,
    bool Draining = false) : IStoreMessage
{
    public IReadOnlyList<PeerBacklog> Backlog { get; init; } = Backlog ?? [];

    /// <summary>Seconds until the queue is worked off at the current rate (or, while idle, at the configured rate at best); null when nothing waits.</summary>
    public double? SecondsLeft => BytesQueued <= 0 && CopiesQueued <= 0 ? null
        : BytesQueued / Math.Max(1.0, RepairBytesPerSecond > 0 ? RepairBytesPerSecond : RepairRateLimit);
}

/// <summary>A cluster member as `members` shows it; NodeId is empty and the counts -1 when it did not answer.</summary>
public sealed record MemberInfo(string Address, string Status, IReadOnlyList<string> Roles, string NodeId, long Objects, long Chunks);

/// <summary>
/// What a shell says to a node and hears back. Bulk data moves as <see cref="DataFrame"/>s of at most
/// one frame-size each, with at most a window of them unacknowledged, in either direction.
/// </summary>
public static class StoreProtocol
{
    // --- put: PutObject → UploadReady, then the bytes either on the node's data port (DataPort > 0:
    // connect, send DataToken, send the bytes, close) or as DataFrame* ⇄ FrameAck*; or, from a client
    // on the node's machine (HandOver not empty), the open file itself, handed over with DataToken on
    // that Unix socket, which the node reads (UploadProgress* as it goes);
    // then UploadComplete → PutCompleted | StoreError
    public sealed record PutObject(string Bucket, string Key, long ExpectedSize, FileMetadata? File = null) : IStoreMessage;
    public sealed record UploadReady(IActorRef Session, int Window, int FrameSize, string DataHost, int DataPort, byte[] DataToken, string HandOver = "") : IStoreMessage;
    /// <summary>Bytes of a handed-over file the node has read so far.</summary>
    public sealed record UploadProgress(long Bytes) : IStoreMessage;
    /// <summary>All bytes are sent. <paramref name="Frames"/> is the frame count, or -1 when the bytes went over the data port.</summary>
    public sealed record UploadComplete(long TotalBytes, long Frames) : IStoreMessage
    {
        public const long ViaDataPort = -1;
    }
    /// <param name="Copies">Durable copies when the put was answered (of the chunk or metadata with the fewest); 0 when the node did not say.</param>
    /// <param name="Factor">Copies the configuration promises.</param>
    /// <param name="Queued">Copies the node queued to be made in the background.</param>
    public sealed record PutCompleted(ObjectInfo Object, long NewChunkBytes, int Copies = 0, int Factor = 0, int Queued = 0) : IStoreMessage
    {
        /// <summary>How the shell says where the put stands: "stored on 2 of 3 nodes; 1 copy queued".</summary>
        public string Durability => Copies <= 0 ? "" : Queued > 0 || Copies < Factor
            ? $"stored on {Copies} of {Factor} nodes; {Queued} cop{(Queued == 1 ? "y" : "ies")} queued"
            : $"stored on {Copies} of {Factor} nodes";
    }

    // --- put of a small object (at most one frame): PutSmallObject → PutCompleted | StoreError.
    // One round trip instead of six messages: a tree of small files is bound by per-object costs.
    public sealed record PutSmallObject(string Bucket, string Key, ReadOnlyMemory<byte> Data, FileMetadata? File = null) : IStoreMessage;

    // --- puts of many small objects in one request: PutSmallObjects → SmallPutsDone (one outcome per object,
    // in order). Each object is stored whole or not at all; one failing does not hold back the others.
    // The node places them together: one message per peer for their chunks and one for their commits.
    /// <param name="AloneOk">The client takes "put it on its own" answers (<see cref="SmallPutOutcome.Alone"/>) for objects larger
    /// than one chunk of this node; a client before them gets an error for those.</param>
    public sealed record PutSmallObjects(IReadOnlyList<PutSmallObject> Objects, bool AloneOk = false) : IStoreMessage
    {
        /// <summary>Objects per request: at most this many, and at most one frame of data in all.</summary>
        public const int MaxObjects = 64;
    }
    /// <summary>
    /// Exactly one of <paramref name="Done"/> and <paramref name="Error"/> is set, or (an answer to <see cref="PutSmallFiles"/>, or to
    /// <see cref="PutSmallObjects"/> with AloneOk) neither and <paramref name="Alone"/>: the object was larger than one chunk, nothing
    /// was stored, put it on its own.
    /// </summary>
    public sealed record SmallPutOutcome(string Bucket, string Key, PutCompleted? Done, StoreError? Error, bool Alone = false);

    // --- puts of small files on the node's machine: PutSmallFiles (the objects without their bytes) → FilesReady;
    // the client hands over the files (one per object, in order, in one message) and sends FilesHandedOver to
    // Batch (or CancelTransfer when it could not) → SmallPutsDone. The node reads each file whole, at most one
    // chunk (a larger one is answered Alone), and stores them as PutSmallObjects does. A node without hand-overs
    // answers StoreError; a node of an earlier version does not know the message (no answer).
    public sealed record PutSmallFiles(IReadOnlyList<PutSmallObject> Objects) : IStoreMessage;
    public sealed record SmallPutsDone(IReadOnlyList<SmallPutOutcome> Outcomes) : IStoreMessage;

    // --- get: GetObject → DownloadReady, then either DataFrame* ⇄ FrameAck* (an object of one frame: at
    // once), or (DataPort > 0: the object is larger than a frame) the client's choice: the raw bytes on the
    // node's data port (connect, send DataToken, read to the end) for an object larger than a window of
    // frames, else frames, asked for with FrameAck(-1), as does a client that cannot reach the port.
    // Either way DownloadComplete | StoreError ends it. A client on the node's machine may instead hand its
    // temp file to HandOver (with the token): the node writes the object into it and DownloadComplete
    // carries the SHA-256 of what it wrote.
    public sealed record GetObject(string Bucket, string Key, int Window) : IStoreMessage;

    // --- gets of many small objects in one request: GetSmallObjects → SmallObjectsFound (one outcome per key,
    // in order): the whole object inline, or "get it on its own" (too large for the reply), or an error.
    // A client on the node's machine may ask IntoFiles: the node answers FilesReady (a token and its
    // hand-over socket; a node without one answers inline as above), the client hands over one temp file per key
    // in one message and sends FilesHandedOver to Batch (or CancelTransfer when it could not), and the
    // node writes each object into its file (up to FileBatchBytes in all) and answers SmallObjectsFound with
    // InFile outcomes. Objects too large for that are "get it on its own", as inline.
    public sealed record GetSmallObjects(string Bucket, IReadOnlyList<string> Keys, bool IntoFiles = false) : IStoreMessage
    {
        public const int MaxKeys = 64;
        /// <summary>Bytes a batch written into handed-over files carries at most (what the node holds for it at once).</summary>
        public const long FileBatchBytes = 8L * 1024 * 1024;
    }
    /// <param name="Whole">The object's bytes are all in <paramref name="Data"/>; false with no error: get it on its own.</param>
    /// <param name="InFile">The node wrote the object into the key's handed-over file, every chunk checked against its id.</param>
    public sealed record SmallGetOutcome(string Key, ObjectInfo? Object, ReadOnlyMemory<byte> Data, bool Whole, StoreError? Error, bool InFile = false);
    public sealed record FilesReady(IActorRef Batch, string HandOver, byte[] Token) : IStoreMessage;
    public sealed record FilesHandedOver : IStoreMessage;
    public sealed record SmallObjectsFound(IReadOnlyList<SmallGetOutcome> Outcomes) : IStoreMessage;
    public sealed record DownloadReady(ObjectInfo Object, IActorRef Session, string DataHost, int DataPort, byte[] DataToken, string HandOver = "") : IStoreMessage
    {
        public DownloadReady(ObjectInfo info, IActorRef session) : this(info, session, "", 0, []) { }
    }
    /// <param name="WrittenSha256">From a node of an earlier version that wrote the client's handed-over file: the hash of what it wrote.</param>
    /// <param name="ChunksChecked">The node wrote the client's handed-over file: every chunk checked against its id as it was read, and
    /// written at its place in the object's chunk list (the chunk ids pin the bytes, so the object is not hashed again).</param>
    public sealed record DownloadComplete(long TotalBytes, ContentHash? WrittenSha256 = null, bool ChunksChecked = false) : IStoreMessage;

    // --- both directions of a transfer
    public sealed record DataFrame(long Sequence, ReadOnlyMemory<byte> Data) : IStoreMessage;
    public sealed record FrameAck(long Sequence) : IStoreMessage;
    public sealed record CancelTransfer(string Reason) : IStoreMessage;

    // --- metadata
    public sealed record ListObjects(string Bucket, string Prefix, string? StartAfter, int Limit) : IStoreMessage;
    public sealed record ObjectListing(string Bucket, IReadOnlyList<ObjectInfo> Objects, bool Truncated) : IStoreMessage;
    public sealed record ListBuckets : IStoreMessage
    {
        public static readonly ListBuckets Instance = new();
    }
    public sealed record BucketListing(IReadOnlyList<BucketInfo> Buckets) : IStoreMessage;
    /// <summary>Details of an object with one page of its chunks, from <paramref name="FirstChunk"/> on (a large object takes several asks).</summary>
    public sealed record StatObject(string Bucket, string Key, int FirstChunk = 0) : IStoreMessage;
    public sealed record ObjectDetails(ObjectInfo Object, IReadOnlyList<ChunkLocation> Chunks, int FirstChunk = 0) : IStoreMessage;
    public sealed record DeleteObject(string Bucket, string Key) : IStoreMessage;
    public sealed record ObjectDeleted(string Bucket, string Key) : IStoreMessage;

    // --- cluster
    public sealed record ListMembers : IStoreMessage
    {
        public static readonly ListMembers Instance = new();
    }
    public sealed record MemberListing(IReadOnlyList<MemberInfo> Members, string Notice = "") : IStoreMessage;
    public sealed record GetNodeStatus : IStoreMessage
    {
        public static readonly GetNodeStatus Instance = new();
    }
    public sealed record NodeStatus(string NodeId, long Objects, long Chunks) : IStoreMessage;

    // --- health (the shell's `status`): GetClusterHealth → ClusterHealth, gathered by the node from
    // every member's GetNodeHealth → NodeHealth.
    public sealed record GetClusterHealth : IStoreMessage
    {
        public static readonly GetClusterHealth Instance = new();
    }
    public sealed record ClusterHealth(IReadOnlyList<NodeHealth> Nodes, string Notice = "") : IStoreMessage;
    public sealed record GetNodeHealth : IStoreMessage
    {
        public static readonly GetNodeHealth Instance = new();
    }

    // --- leave: the node drains (hands every copy it holds to the nodes that remain), then leaves.
    public sealed record LeaveCluster : IStoreMessage
    {
        public static readonly LeaveCluster Instance = new();
    }
    public sealed record LeaveAccepted(string NodeId, long Objects) : IStoreMessage;

    /// <summary>Every failure a node reports: a code a program can act on and a message a person can read.</summary>
    public sealed record StoreError(StoreErrorCode Code, string Message) : IStoreMessage;
}
