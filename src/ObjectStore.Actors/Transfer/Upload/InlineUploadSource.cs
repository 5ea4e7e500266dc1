using Akka.Actor;
using ObjectStore.Actors.Chunking;

namespace ObjectStore.Actors.Transfer.Upload;

/// <summary>An object that came inside its request (a small put) but makes more than one chunk: all of it to the chunker at once.</summary>
internal sealed class InlineUploadSource : IUploadSource
{
    private readonly IUploadSourceOwner _owner;
    private readonly long _length;

    public InlineUploadSource(IUploadSourceOwner owner, IActorRef chunker, ReadOnlyMemory<byte> data)
    {
        (_owner, _length) = (owner, data.Length);
        chunker.Tell(new ChunkerActor.Bytes(0, data));
    }

    public bool Handle(object message)
    {
        if (message is not ChunkerActor.Accepted) return false;
        _owner.SourceEnded(_length);
        return true;
    }

    public void Dispose() { }
}
