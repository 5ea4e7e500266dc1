using Akka.Actor;
using ObjectStore.Core.Chunking;
using ObjectStore.Core.Hashing;

namespace ObjectStore.Actors.Replication;

/// <summary>
/// The body an actor (a fetch, a push's receiver) has handed to <see cref="ReceivedChunkChecks"/>: its reference is
/// held here until the answer, <see cref="Checked"/>, comes back to the actor, and disposed if the actor stops first.
/// </summary>
internal sealed class PendingBodyCheck : IDisposable
{
    /// <param name="Failure">The check itself failed (not the bytes): why.</param>
    public sealed record Checked(bool Matches, string? Failure) : ILocalMessage;

    private ChunkBuffer? _body;

    /// <summary>Checks <paramref name="body"/> against <paramref name="id"/>, answering <paramref name="actor"/>; a second body while one is checked is dropped (the first decides).</summary>
    public void Start(ChunkBuffer body, ContentHash id, ShaNiKernel? kernel, IActorRef actor)
    {
        if (_body is not null)
        {
            body.Dispose();
            return;
        }
        _body = body;
        ReceivedChunkChecks.MatchesAsync(body, id, kernel)
            .PipeTo(actor, success: matches => new Checked(matches, null), failure: e => new Checked(false, e.Message));
    }

    /// <summary>The body the answer is about, now the caller's; null when there is none (already taken).</summary>
    public ChunkBuffer? Take()
    {
        var body = _body;
        _body = null;
        return body;
    }

    public void Dispose() => Take()?.Dispose();
}
