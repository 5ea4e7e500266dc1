using Akka.Actor;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Transfer;
using ObjectStore.Core.Chunking;
using ObjectStore.Core.Hashing;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;
using static ObjectStore.Actors.Protocol.ReplicaProtocol;

namespace ObjectStore.Actors.Replication;

/// <summary>
/// Fetches one chunk from one other node for a get or a repair: asks its chunk endpoint, with a data route
/// when this node has a data plane, and takes the body whole on that connection, or as parts in order,
/// acknowledging them; verifies the whole against the chunk's id — the holder sends it unchecked
/// (<see cref="FetchChunk.FetcherChecks"/>), and is asked to check its copy when it does not match, which
/// quarantines a corrupt one there. Tells its parent <see cref="Fetched"/> with the bytes, or with the
/// reason it has none.
/// </summary>
internal sealed class ChunkFetchActor : WireActor
{
    /// <param name="Body">The chunk's bytes, the parent's to dispose; null with a failure.</param>
    public sealed record Fetched(long RequestId, RingMember Source, ChunkBuffer? Body, StoreProtocol.StoreError? Failure) : ILocalMessage;

    private readonly long _requestId;
    private readonly RingMember _source;
    private readonly TimeSpan _timeout;
    private readonly long _transferId = Random.Shared.NextInt64(1, long.MaxValue);
    private readonly ChunkAssembly _assembly;
    private readonly ShaNiKernel? _kernel;
    private IncomingChunkBody? _body;
    private readonly PendingBodyCheck _check = new();
    private bool _reported;
    /// <summary>What was wrong with the body the holder sent, while it checks its copy; its answer ends the fetch.</summary>
    private string? _holderChecking;

    /// <param name="kernel">Checks bodies two at a time with other fetches and pushes; null: each on its own.</param>
    public ChunkFetchActor(long requestId, ContentHash id, int length, RingMember source, TimeSpan timeout, ShaNiKernel? kernel)
    {
        _requestId = requestId;
        _source = source;
        _timeout = timeout;
        _kernel = kernel;
        _assembly = new ChunkAssembly(id, length);

        Receive<ChunkPart>(m => m.TransferId == _transferId, m =>
        {
            if (_assembly.Add(m.Offset, m.Data.Span) is { } refused)
            {
                // More bytes than the chunk has: the holder's copy may be longer than it should be.
                AskHolderToCheck(refused);
                return;
            }
            Sender.Tell(new ChunkPartAck(_transferId, _assembly.Received));
            if (_assembly.Complete) Verify(_assembly.TakeUnverified());
        });
        Receive<DataConnectionOpened>(m =>
        {
            if (_body is null) m.Client.Dispose();
            else _body.Read(m.Client, _assembly.Length, _timeout, Self);
        });
        Receive<IncomingChunkBody.Arrived>(m => Verify(m.Body));
        Receive<PendingBodyCheck.Checked>(Checked);
        Receive<IncomingChunkBody.Broke>(m =>
        {
            if (m.WrongLength) AskHolderToCheck(m.Reason);
            else Report(null, new StoreProtocol.StoreError(StoreErrorCode.Unavailable, m.Reason));
        });
        Receive<TransferFailed>(m => m.TransferId == _transferId, m => Report(null, new StoreProtocol.StoreError(m.Code,
            _holderChecking is { } what && m.Code != StoreErrorCode.Corrupt ? $"{what} ({m.Reason})" : m.Reason)));
        Receive<ReceiveTimeout>(_ =>
        {
            if (_holderChecking is { } what)
            {
                Report(null, new StoreProtocol.StoreError(StoreErrorCode.Corrupt, $"{what}, and it did not say within {_timeout.TotalSeconds:0.#}s whether its copy is corrupt"));
                return;
            }
            // A copy shorter than the chunk ends the parts early: have the holder check it (its answer is not
            // awaited: it finds this fetch gone, a dead letter).
            ClusterRing.ChunksOf(Context, _source.Address).Tell(new CheckChunk(_transferId, _assembly.Id, Self));
            Report(null, new StoreProtocol.StoreError(StoreErrorCode.Unavailable, $"no answer for {_timeout.TotalSeconds:0.#}s"));
        });
    }

    public static Props Props(long requestId, ContentHash id, int length, RingMember source, TimeSpan timeout, ShaNiKernel? kernel) =>
        ActorProps.Of(() => new ChunkFetchActor(requestId, id, length, source, timeout, kernel));

    protected override void PreStart()
    {
        if (_assembly.Length == 0)
        {
            Report(ChunkBuffer.Rent(1), null);
            return;
        }
        Context.SetReceiveTimeout(_timeout);
        _body = IncomingChunkBody.Expect(Context.System, Self);
        ClusterRing.ChunksOf(Context, _source.Address).Tell(new FetchChunk(_transferId, _assembly.Id, Self, _body?.Route, FetcherChecks: true));
    }

    protected override void PostStop()
    {
        _body?.Dispose();
        _assembly.Dispose();
        _check.Dispose();
    }

    private void Verify(ChunkBuffer received)
    {
        if (_reported)
        {
            received.Dispose();
            return;
        }
        _check.Start(received, _assembly.Id, _kernel, Self);
    }

    private void Checked(PendingBodyCheck.Checked m)
    {
        if (_check.Take() is not { } received) return;
        if (m.Matches)
        {
            Report(received, null);
            return;
        }
        received.Dispose();
        if (m.Failure is { } failure) Report(null, new StoreProtocol.StoreError(StoreErrorCode.Unavailable, $"could not check the bytes it sent: {failure}"));
        else AskHolderToCheck("the bytes it sent do not hash to the chunk's id");
    }

    /// <summary>
    /// The holder sent its copy unchecked and it was wrong: its copy may be corrupt (then it must go to
    /// quarantine there, and read repair replace it) or the bytes broke on the way. Its answer (TransferFailed) says which.
    /// </summary>
    private void AskHolderToCheck(string what)
    {
        if (_holderChecking is not null || _reported) return;
        _holderChecking = what;
        ClusterRing.ChunksOf(Context, _source.Address).Tell(new CheckChunk(_transferId, _assembly.Id, Self));
    }

    private void Report(ChunkBuffer? body, StoreProtocol.StoreError? failure)
    {
        if (_reported)
        {
            body?.Dispose();
            return;
        }
        _reported = true;
        Context.Parent.Tell(new Fetched(_requestId, _source, body, failure));
        Context.Stop(Self);
    }
}
