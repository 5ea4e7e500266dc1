using Akka.Actor;
using Microsoft.Win32.SafeHandles;

namespace ObjectStore.Actors.Transfer;

/// <summary>
/// The files a batch's client on this machine hands over in one message, one per object (a batch of gets written
/// into them, or of puts read from them): expected by the data plane under a fresh token for exactly that many
/// files, taken once, and closed with the token forgotten when the batch ends.
/// </summary>
internal sealed class HandedOverFiles : IDisposable
{
    private readonly DataPlane _plane;
    private readonly int _count;

    public HandedOverFiles(DataPlane plane, IActorRef batch, int count)
    {
        (_plane, _count) = (plane, count);
        Token = plane.Expect(batch, count);
    }

    public byte[] Token { get; }
    public string SocketName => _plane.HandOverName;

    /// <summary>The files, in the order of the batch's objects, once they came; null before.</summary>
    public IReadOnlyList<SafeFileHandle>? Files { get; private set; }

    /// <summary>Takes the files of a hand-over, or closes those of a second one or of another count.</summary>
    public void Take(IReadOnlyList<SafeFileHandle> files)
    {
        if (Files is null && files.Count == _count) Files = files;
        else foreach (var f in files) f.Dispose();
    }

    /// <summary>Closes the files once the batch is done with them (they stay counted as taken).</summary>
    public void Close()
    {
        foreach (var f in Files ?? []) f.Dispose();
        if (Files is not null) Files = [];
    }

    /// <summary>Forgets the token and closes the files; again, nothing more.</summary>
    public void Dispose()
    {
        _plane.Forget(Token);
        foreach (var f in Files ?? []) f.Dispose();
    }
}
