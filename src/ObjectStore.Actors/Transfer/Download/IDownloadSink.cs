using ObjectStore.Actors.Protocol;

namespace ObjectStore.Actors.Transfer.Download;

/// <summary>
/// Where a get's bytes go: the client's data connection, or Akka.Remote frames within the client's window.
/// The download session hands it the object's chunks in order and sees only this.
/// </summary>
internal interface IDownloadSink : IDisposable
{
    /// <summary>The next chunk's bytes, in order; the sink lets go of a leased read (<see cref="Storage.ChunkStorageProtocol.ChunkRead.Lease"/>).</summary>
    void Add(Storage.ChunkStorageProtocol.ChunkRead chunk);

    /// <summary>The last chunk has been added.</summary>
    void End();

    /// <summary>Chunks added and not yet sent whole.</summary>
    int Pending { get; }

    /// <summary>Handles a message of this way of sending (acknowledgements, finished writes); false when it is not one.</summary>
    bool Handle(object message);

    /// <summary>Why the transfer is not moving, for the session's timeout message.</summary>
    string Stalled { get; }
}

/// <summary>What a sink reports to the session that owns it.</summary>
internal interface IDownloadSinkOwner
{
    /// <summary>A chunk was sent whole: room to read another.</summary>
    void SinkMoved();

    /// <summary>Every byte went out and the client has been told the get is complete.</summary>
    void SinkDone();

    void SinkFailed(StoreErrorCode code, string message);
}
