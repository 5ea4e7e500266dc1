using ObjectStore.Actors.Protocol;

namespace ObjectStore.Actors.Transfer.Upload;

/// <summary>
/// Where a put's bytes come from: inside the request, as Akka.Remote frames, on the data port, or as a
/// file handed over by a client on this machine. Each feeds the put's chunker in its own way; the upload
/// session sees only this. A source is driven by the messages of its way of receiving (it says whether a
/// message was one of them) and tells its owner when all bytes are in and the client's total agrees.
/// </summary>
internal interface IUploadSource : IDisposable
{
    /// <summary>Handles a message of this way of receiving bytes; false when it is not one.</summary>
    bool Handle(object message);
}

/// <summary>What a source reports to the session that owns it.</summary>
internal interface IUploadSourceOwner
{
    /// <summary>Every byte has gone to the chunker and the client's announced total matches them.</summary>
    void SourceEnded(long totalBytes);

    /// <summary>The node has read this many bytes of a handed-over file (the client shows them as progress).</summary>
    void SourceProgress(long bytes);

    /// <summary>The bytes cannot be taken (bad input, a broken connection, an unreadable file); nothing is stored.</summary>
    void SourceFailed(StoreErrorCode code, string message);
}
