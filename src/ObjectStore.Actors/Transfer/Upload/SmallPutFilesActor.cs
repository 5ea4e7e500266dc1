using Akka.Actor;
using Microsoft.Win32.SafeHandles;
using ObjectStore.Actors.Protocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Transfer.Upload;

/// <summary>
/// The node's side of a put of small files from a client on this machine (<see cref="PutSmallFiles"/>): the client
/// hands over its files (one message, one per object) instead of sending their bytes, the node reads each whole,
/// and a <see cref="SmallPutBatchActor"/> stores them as a batch of small puts would: each object one chunk, so
/// files up to the chunker's minimum (256 KiB by default; chunks larger than a frame go to peers one by one, on the
/// data plane). A larger file is answered "put it on its own"; one that cannot be read fails alone. The client's
/// answer comes once every object has its outcome.
/// </summary>
internal sealed class SmallPutFilesActor : ReceiveActor
{
    private sealed record FilesRead(IReadOnlyList<object> Contents) : ILocalMessage;

    private readonly UploadContext _node;
    private readonly PutSmallFiles _request;
    private readonly HandedOverFiles _files;
    private IActorRef? _answerTo;
    private SmallPutOutcome?[] _outcomes = [];
    private List<int> _stored = [];

    public SmallPutFilesActor(UploadContext node, IActorRef client, PutSmallFiles request)
    {
        (_node, _request) = (node, request);
        _files = new HandedOverFiles(node.DataPlane!, Self, request.Objects.Count);
        client.Tell(new FilesReady(Self, _files.SocketName, _files.Token));

        Receive<LocalFilesOpened>(m => _files.Take(m.Files));
        Receive<DataConnectionOpened>(m => m.Client.Dispose()); // the token is for a hand-over only
        Receive<FilesHandedOver>(_ =>
        {
            if (_answerTo is not null) return;
            _answerTo = Sender;
            if (_files.Files is not { } files)
            {
                _files.Dispose(); // the token forgotten before the answer: a hand-over after it is refused too
                Sender.Tell(new StoreError(StoreErrorCode.InvalidRequest, "the node took no files for this batch of puts; nothing was stored"));
                Context.Stop(Self);
                return;
            }
            var limit = _node.Settings.Chunking.SingleChunkLimit;
            Task.Run<object>(() => new FilesRead(files.Select(f => Read(f, limit)).ToList())).PipeTo(Self);
        });
        Receive<FilesRead>(Store);
        Receive<SmallPutsDone>(m =>
        {
            for (var at = 0; at < _stored.Count && at < m.Outcomes.Count; at++) _outcomes[_stored[at]] = m.Outcomes[at];
            Answer();
        });
        Receive<CancelTransfer>(_ => { if (_answerTo is null) Context.Stop(Self); });
        Receive<ReceiveTimeout>(_ => Context.Stop(Self)); // the client never said it handed its files over
    }

    public static Props Props(UploadContext node, IActorRef client, PutSmallFiles request) =>
        ActorProps.Of(() => new SmallPutFilesActor(node, client, request));

    protected override void PreStart() => Context.SetReceiveTimeout(_node.Settings.RequestTimeout);

    protected override void PostStop() => _files.Dispose();

    /// <summary>A file's bytes, null when it is larger than <paramref name="limit"/>, or the reason it could not be read.</summary>
    private static object Read(SafeFileHandle file, int limit)
    {
        try
        {
            var length = RandomAccess.GetLength(file);
            if (length > limit) return new TooLarge();
            var bytes = new byte[length];
            var at = 0;
            int read;
            // What the file holds now, up to the length it had: one that shrinks meanwhile is stored as it ends.
            while (at < bytes.Length && (read = RandomAccess.Read(file, bytes.AsSpan(at), at)) > 0) at += read;
            return at == bytes.Length ? bytes : bytes[..at];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return e.Message;
        }
    }

    private sealed record TooLarge;

    /// <summary>The files are read: the readable ones go to one batch of small puts, the others have their outcome already.</summary>
    private void Store(FilesRead read)
    {
        _files.Close();
        _outcomes = new SmallPutOutcome?[_request.Objects.Count];
        var objects = new List<PutSmallObject>();
        for (var i = 0; i < _request.Objects.Count; i++)
        {
            var o = _request.Objects[i];
            switch (read.Contents[i])
            {
                case byte[] bytes:
                    _stored.Add(i);
                    objects.Add(o with { Data = bytes });
                    break;
                case TooLarge:
                    _outcomes[i] = new SmallPutOutcome(o.Bucket, o.Key, null, null, Alone: true);
                    break;
                default:
                    _outcomes[i] = new SmallPutOutcome(o.Bucket, o.Key, null,
                        new StoreError(StoreErrorCode.InvalidRequest, $"put of {o.Bucket}/{o.Key} failed: reading the handed-over file failed: {read.Contents[i]}; nothing was stored"));
                    break;
            }
        }
        if (objects.Count == 0)
        {
            Answer();
            return;
        }
        // The batch answers every object, within its own timeouts: this actor waits for it however long it takes.
        Context.SetReceiveTimeout(null);
        Context.ActorOf(SmallPutBatchActor.Props(_node, Self, new PutSmallObjects(objects, AloneOk: true)), "batch");
    }

    private void Answer()
    {
        _answerTo!.Tell(new SmallPutsDone(_outcomes.Select((o, i) => o ?? new SmallPutOutcome(_request.Objects[i].Bucket, _request.Objects[i].Key, null,
            new StoreError(StoreErrorCode.Unavailable, "no outcome; it may or may not be stored"))).ToList()));
        Context.Stop(Self);
    }
}
