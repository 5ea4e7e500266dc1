using Akka.Actor;
using Microsoft.Win32.SafeHandles;
using ObjectStore.Actors.Transfer;
using ObjectStore.Actors.Coordination;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Storage;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Client;

/// <summary>
/// Talks to one node's coordinator from any actor system (the shell's own, or the node's in
/// <c>objectstore local</c>), or from none over a <see cref="NodeLink"/> (a shell script on the node's
/// machine). Every call is bounded: short requests by the request timeout, transfers by an idle timeout
/// that resets on every frame.
/// </summary>
public sealed class StoreClient
{
    private readonly ActorSystem? _system;
    private readonly StoreSettings _settings;
    private readonly NodeWatch? _watch;
    private readonly NodeLink? _link;
    private readonly Lazy<Task<StoreClient>>? _sessions;
    private long _transfers;

    public StoreClient(ActorSystem system, IActorRef node, StoreSettings settings)
    {
        _system = system;
        Node = node;
        _settings = settings;
        _watch = new NodeWatch(system, node);
    }

    /// <summary>
    /// A client whose requests go over <paramref name="link"/>. A put or get that needs a transfer session (an object
    /// larger than a batch carries) is made by the client <paramref name="sessions"/> returns, asked for the first
    /// time then: it starts an actor system with Akka.Remote, which a script of small objects never needs.
    /// </summary>
    public StoreClient(NodeLink link, StoreSettings settings, Func<Task<StoreClient>> sessions)
    {
        _link = link;
        Node = link.Coordinator;
        Host = link.Host;
        _settings = settings;
        _sessions = new Lazy<Task<StoreClient>>(sessions);
    }

    /// <summary>Whether requests go over a link (no actor system) rather than Akka.Remote.</summary>
    public bool Linked => _link is not null;

    public IActorRef Node { get; }

    /// <summary>
    /// Finds the coordinator of the node at host:port under any of its names (see <see cref="NodeAddress"/>),
    /// or fails with a message that says why: nothing listens there, or the node answers to another name.
    /// </summary>
    /// <param name="names">The host's names when the caller has looked them up already (<see cref="NodeLink.TryConnectAsync"/>).</param>
    public static async Task<StoreClient> ConnectAsync(ActorSystem system, string host, int port, StoreSettings settings,
        Func<Task<IReadOnlyList<string>>>? names = null)
    {
        var candidates = await (names ?? (() => NodeAddress.CandidatesAsync(host)))();
        if (!await NodeAddress.ListensAsync(candidates[0], port))
            throw new StoreException(StoreErrorCode.Unavailable, $"no objectstore node answers at {host}:{port} (nothing listens there)");
        // A name the node does not answer to costs a short wait; the last candidate gets the full timeout.
        var probe = settings.RequestTimeout < TimeSpan.FromSeconds(5) ? settings.RequestTimeout : TimeSpan.FromSeconds(5);
        for (var i = 0; i < candidates.Count; i++)
        {
            var path = $"akka.tcp://{NodeSystemName}@{candidates[i]}:{port}/user/{StoreCoordinator.Name}";
            try
            {
                var node = await system.ActorSelection(path).ResolveOne(i == candidates.Count - 1 ? settings.RequestTimeout : probe);
                return new StoreClient(system, node, settings) { Host = candidates[i] };
            }
            catch (ActorNotFoundException)
            {
                // Not under this name; try the next.
            }
        }
        throw new StoreException(StoreErrorCode.Unavailable, candidates.Count == 1
            ? $"no objectstore node answers at {host}:{port}"
            : $"no objectstore node answers at {host}:{port} under any of its names ({string.Join(", ", candidates)}); " +
              "a node answers only to the host it advertises (its --host, shown in its 'listening on' line)");
    }

    /// <summary>The host name the node answered to (it may differ from the one the user gave).</summary>
    public string Host { get; private init; } = "";

    /// <summary>The actor system name every node uses; part of every node address.</summary>
    public const string NodeSystemName = "objectstore";

    /// <param name="metadata">The file's mode and modification time, kept with the object.</param>
    /// <param name="cancel">Cancels the put on the node too; a small put (one request) is not cancelled, it is over in a moment.</param>
    public async Task<PutCompleted> PutFileAsync(string path, string bucket, string key, FileMetadata? metadata = null, IProgress<long>? progress = null,
        CancellationToken cancel = default)
    {
        if (SmallFileBytes(path) is { } bytes) return await PutSmallAsync(bucket, key, bytes, metadata);
        if (_sessions is not null) return await (await _sessions.Value).PutFileAsync(path, bucket, key, metadata, progress, cancel);
        var result = new TaskCompletionSource<PutCompleted>(TaskCreationOptions.RunContinuationsAsynchronously);
        var uploader = _system!.ActorOf(FileUploaderActor.Props(Node, path, bucket, key, _settings.IdleTimeout, result, progress, metadata),
            $"upload-{Interlocked.Increment(ref _transfers)}");
        await using var cancelled = cancel.Register(() => uploader.Tell(UserCancelled.Instance));
        return await result.Task;
    }

    /// <summary>Settings that bound what the client waits for and reads (idle timeout, stream input limit).</summary>
    public StoreSettings Settings => _settings;

    /// <summary>Files up to this size travel inside the put request.</summary>
    public int SmallPutBytes => _settings.FrameSize;

    /// <summary>
    /// Puts small objects in one request: each is stored whole, fails alone, or (larger than one chunk of the node)
    /// is left to a put of its own (<see cref="SmallPutOutcome.Alone"/>), and the reply has one outcome per object in
    /// order. At most <see cref="PutSmallObjects.MaxObjects"/> objects and one frame of data.
    /// </summary>
    public Task<SmallPutsDone> PutSmallBatchAsync(IReadOnlyList<PutSmallObject> objects) =>
        RequestAsync<SmallPutsDone>(new PutSmallObjects(objects, AloneOk: true), _settings.IdleTimeout + _settings.RequestTimeout,
            $"a batch of {objects.Count} small puts ({objects[0].Bucket}/{objects[0].Key} ...): the node did not answer; it may or may not have stored them");

    /// <summary>
    /// Puts small files on this machine in one request (<paramref name="objects"/> without their bytes, one file per
    /// object, in order): the node reads each file itself. Null when the node does not take files from here
    /// (another machine, its hand-over off, a node of an earlier version, which does not answer): nothing was
    /// stored, the batch is the caller's to send with its bytes. An outcome may be Alone: the file was too large
    /// for a batch, put it on its own.
    /// </summary>
    public async Task<SmallPutsDone?> PutSmallBatchFromFilesAsync(IReadOnlyList<PutSmallObject> objects, IReadOnlyList<SafeFileHandle> files)
    {
        var what = $"a batch of {objects.Count} small puts ({objects[0].Bucket}/{objects[0].Key} ...)";
        FilesReady ready;
        try
        {
            ready = await RequestAsync<FilesReady>(Node, new PutSmallFiles(objects), FilesReadyTimeout, $"{what}: the node did not answer");
        }
        catch (StoreException e) when (e.Code is StoreErrorCode.InvalidRequest or StoreErrorCode.Timeout)
        {
            return null; // nothing was handed over, so nothing can have been stored
        }
        if (!await HandOverAsync(ready, files)) return null;
        return await RequestAsync<SmallPutsDone>(ready.Batch, new FilesHandedOver(), _settings.IdleTimeout + _settings.RequestTimeout,
            $"{what}: the node did not answer; it may or may not have stored them");
    }

    /// <summary>
    /// Gets small objects in one request: one outcome per key in order, each the whole object, "get it on its
    /// own" (it did not fit the reply), or an error. At most <see cref="GetSmallObjects.MaxKeys"/> keys.
    /// </summary>
    public Task<SmallObjectsFound> GetSmallBatchAsync(string bucket, IReadOnlyList<string> keys) =>
        RequestAsync<SmallObjectsFound>(new GetSmallObjects(bucket, keys), _settings.RequestTimeout + _settings.Replication.LookupTimeout,
            $"a batch of {keys.Count} small gets ({bucket}/{keys[0]} ...): the node did not answer");

    /// <summary>
    /// Gets objects straight into files on this machine (one per key, in order, fresh and empty): the node writes
    /// each object into its file, and the reply says which it wrote (<see cref="SmallGetOutcome.InFile"/>); those it
    /// did not are inline, "get it on its own" or failed, as in <see cref="GetSmallBatchAsync"/>. HandedOver is false when
    /// the node answered inline (a node of an earlier version, or one without hand-overs); Found is null when the node
    /// cannot take the files from here (another machine): nothing was got, the batch is the caller's to get inline.
    /// At most <see cref="GetSmallObjects.MaxKeys"/> keys.
    /// </summary>
    public async Task<(SmallObjectsFound? Found, bool HandedOver)> GetSmallBatchIntoFilesAsync(string bucket, IReadOnlyList<string> keys, IReadOnlyList<SafeFileHandle> files)
    {
        var timeout = _settings.RequestTimeout + _settings.Replication.LookupTimeout;
        var noAnswer = $"a batch of {keys.Count} small gets ({bucket}/{keys[0]} ...): the node did not answer";
        var first = await RequestAsync<IStoreMessage>(Node, new GetSmallObjects(bucket, keys, IntoFiles: true), timeout, noAnswer);
        if (first is SmallObjectsFound inline) return (inline, false); // a node before, or one without hand-overs
        if (first is not FilesReady ready)
            throw new StoreException(StoreErrorCode.InvalidRequest, $"unexpected reply {first.GetType().Name}");
        if (!await HandOverAsync(ready, files)) return (null, false);
        return (await RequestAsync<SmallObjectsFound>(ready.Batch, new FilesHandedOver(), timeout, noAnswer), true);
    }

    /// <summary>
    /// Hands a batch's files to the node on its hand-over socket; false, the batch cancelled on the node, when the
    /// node has none (another machine) or would not take them.
    /// </summary>
    private static async Task<bool> HandOverAsync(FilesReady ready, IReadOnlyList<SafeFileHandle> files)
    {
        if (ready.HandOver.Length > 0 && await Task.Run(() => FileHandOver.Offer(ready.HandOver, ready.Token, files, HandOverTimeout))) return true;
        ready.Batch.Tell(new CancelTransfer("the files could not be handed over"));
        return false;
    }

    private static readonly TimeSpan HandOverTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a put of files waits for the node's token: a node answers at once (it reads nothing first), and one of
    /// an earlier version never (it does not know the message), after which the command sends bytes instead.
    /// </summary>
    private static readonly TimeSpan FilesReadyTimeout = TimeSpan.FromSeconds(3);

    /// <summary>The file's bytes when it fits in one frame (it then travels inside the request), else null.</summary>
    public byte[]? SmallFileBytes(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length > _settings.FrameSize) return null;
            var bytes = File.ReadAllBytes(path);
            return bytes.Length <= _settings.FrameSize ? bytes : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // the uploader reports it
        }
    }

    // The node answers once the object is durable on its quorum: allow what a transfer may idle.
    private Task<PutCompleted> PutSmallAsync(string bucket, string key, byte[] data, FileMetadata? metadata) =>
        RequestAsync<PutCompleted>(new PutSmallObject(bucket, key, data, metadata), _settings.IdleTimeout + _settings.RequestTimeout,
            $"put of {bucket}/{key}: the node did not answer; it may or may not have stored the object");

    public async Task<ObjectInfo> GetFileAsync(string bucket, string key, string target, Action<ObjectInfo>? started = null, IProgress<long>? progress = null,
        CancellationToken cancel = default)
    {
        if (_sessions is not null) return await (await _sessions.Value).GetFileAsync(bucket, key, target, started, progress, cancel);
        var result = new TaskCompletionSource<ObjectInfo>(TaskCreationOptions.RunContinuationsAsynchronously);
        var downloader = _system!.ActorOf(FileDownloaderActor.Props(Node, bucket, key, target, _settings.Window, _settings.FrameSize, _settings.IdleTimeout, result, started, progress),
            $"download-{Interlocked.Increment(ref _transfers)}");
        await using var cancelled = cancel.Register(() => downloader.Tell(UserCancelled.Instance));
        return await result.Task;
    }

    public Task<ObjectListing> ListAsync(string bucket, string prefix, string? startAfter = null, int limit = 1000) =>
        RequestAsync<ObjectListing>(new ListObjects(bucket, prefix, startAfter, limit));

    /// <summary>Every object under a prefix, page by page.</summary>
    public async IAsyncEnumerable<ObjectInfo> ListAllAsync(string bucket, string prefix)
    {
        string? after = null;
        while (true)
        {
            var page = await ListAsync(bucket, prefix, after);
            foreach (var o in page.Objects) yield return o;
            if (!page.Truncated || page.Objects.Count == 0) yield break;
            after = page.Objects[^1].Key;
        }
    }

    public Task<BucketListing> ListBucketsAsync() => RequestAsync<BucketListing>(ListBuckets.Instance);

    /// <summary>An object's details with every chunk's location, asked page by page; all pages must be of one version.</summary>
    public async Task<ObjectDetails> StatAsync(string bucket, string key)
    {
        var first = await RequestAsync<ObjectDetails>(new StatObject(bucket, key));
        var chunks = new List<ChunkLocation>(first.Object.ChunkCount);
        chunks.AddRange(first.Chunks);
        while (chunks.Count < first.Object.ChunkCount)
        {
            var page = await RequestAsync<ObjectDetails>(new StatObject(bucket, key, chunks.Count));
            if (page.Object.VersionId != first.Object.VersionId)
                throw new StoreException(StoreErrorCode.Unavailable, $"{bucket}/{key} was replaced while its chunks were listed; run stat again");
            if (page.Chunks.Count == 0)
                throw new StoreException(StoreErrorCode.Unavailable, $"{bucket}/{key}: the node listed {chunks.Count} of {first.Object.ChunkCount} chunks");
            chunks.AddRange(page.Chunks);
        }
        return first with { Chunks = chunks };
    }

    public Task<ObjectDeleted> DeleteAsync(string bucket, string key) => RequestAsync<ObjectDeleted>(new DeleteObject(bucket, key));

    public Task<MemberListing> MembersAsync() => RequestAsync<MemberListing>(ListMembers.Instance);

    /// <summary>Every member's self-healing state (the shell's `status`).</summary>
    public Task<ClusterHealth> HealthAsync() => RequestAsync<ClusterHealth>(GetClusterHealth.Instance);

    /// <summary>Asks the node to hand its copies over and then leave the cluster (the shell's `leave`).</summary>
    public Task<LeaveAccepted> LeaveAsync() => RequestAsync<LeaveAccepted>(LeaveCluster.Instance);

    private Task<T> RequestAsync<T>(object request) =>
        RequestAsync<T>(request, _settings.RequestTimeout, $"the node did not answer within {_settings.RequestTimeout.TotalSeconds:0}s");

    /// <param name="timeoutMessage">What the user is told when no reply comes in time, or the node went away first.</param>
    private Task<T> RequestAsync<T>(object request, TimeSpan timeout, string timeoutMessage) => RequestAsync<T>(Node, request, timeout, timeoutMessage);

    private StoreException WentAway(string timeoutMessage) =>
        new(StoreErrorCode.Unavailable, $"the node at {Node.Path.Address} went away: {timeoutMessage}");

    private async Task<T> RequestAsync<T>(IActorRef to, object request, TimeSpan timeout, string timeoutMessage)
    {
        object reply;
        try
        {
            var ask = to is LinkedActorRef linked ? linked.Link.AskAsync(linked.Target, request, timeout) : to.Ask<object>(request, timeout);
            if (await Task.WhenAny(ask, _link?.Lost ?? _watch!.Lost) != ask) throw WentAway(timeoutMessage);
            reply = await ask;
        }
        catch (AskTimeoutException)
        {
            throw new StoreException(StoreErrorCode.Timeout, timeoutMessage);
        }
        catch (NodeLinkLostException)
        {
            throw WentAway(timeoutMessage);
        }
        return reply switch
        {
            StoreError error => throw new StoreException(error.Code, error.Message),
            T ok => ok,
            _ => throw new StoreException(StoreErrorCode.InvalidRequest, $"unexpected reply {reply.GetType().Name}"),
        };
    }
}
