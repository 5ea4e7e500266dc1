using Akka.Actor;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Hashing;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;
using static ObjectStore.Actors.Protocol.ReplicaProtocol;

namespace ObjectStore.Actors.Replication;

/// <summary>
/// Fetches one chunk from one other node for a get: asks its chunk endpoint, takes the parts in order,
/// acknowledges them, and verifies the whole against the chunk's id. Tells its parent
/// <see cref="Fetched"/> with the bytes, or with the reason it has none.
/// </summary>
internal sealed class ChunkFetchActor : WireActor
{
    public sealed record Fetched(long RequestId, RingMember Source, byte[]? Data, StoreProtocol.StoreError? Failure) : ILocalMessage;

    private readonly long _requestId;
    private readonly RingMember _source;
    private readonly TimeSpan _timeout;
    private readonly long _transferId = Random.Shared.NextInt64(1, long.MaxValue);
    private readonly ChunkAssembly _assembly;
    private bool _reported;

    public ChunkFetchActor(long requestId, ContentHash id, int length, RingMember source, TimeSpan timeout)
    {
        _requestId = requestId;
        _source = source;
        _timeout = timeout;
        _assembly = new ChunkAssembly(id, length);

        Receive<ChunkPart>(m => m.TransferId == _transferId, m =>
        {
            if (_assembly.Add(m.Offset, m.Data.Span) is { } refused)
            {
                Report(null, new StoreProtocol.StoreError(StoreErrorCode.InvalidRequest, refused));
                return;
            }
            Sender.Tell(new ChunkPartAck(_transferId, _assembly.Received));
            if (!_assembly.Complete) return;
            using var verified = _assembly.TakeVerified();
            Report(verified?.Span.ToArray(), verified is null ? new StoreProtocol.StoreError(StoreErrorCode.Corrupt, "the bytes it sent do not hash to the chunk's id") : null);
        });
        Receive<TransferFailed>(m => m.TransferId == _transferId, m => Report(null, new StoreProtocol.StoreError(m.Code, m.Reason)));
        Receive<ReceiveTimeout>(_ => Report(null, new StoreProtocol.StoreError(StoreErrorCode.Unavailable, $"no answer for {_timeout.TotalSeconds:0.#}s")));
    }

    public static Props Props(long requestId, ContentHash id, int length, RingMember source, TimeSpan timeout) =>
        Akka.Actor.Props.Create(() => new ChunkFetchActor(requestId, id, length, source, timeout));

    protected override void PreStart()
    {
        if (_assembly.Length == 0)
        {
            Report([], null);
            return;
        }
        Context.SetReceiveTimeout(_timeout);
        ClusterRing.ChunksOf(Context, _source.Address).Tell(new FetchChunk(_transferId, _assembly.Id, Self));
    }

    protected override void PostStop() => _assembly.Dispose();

    private void Report(byte[]? data, StoreProtocol.StoreError? failure)
    {
        if (_reported) return;
        _reported = true;
        Context.Parent.Tell(new Fetched(_requestId, _source, data, failure));
        Context.Stop(Self);
    }
}
