using System.Buffers.Binary;
using System.Net.Sockets;
using ObjectStore.Core.Chunking;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;

namespace ObjectStore.Actors.Transfer;

/// <summary>
/// One chunk body on a node-to-node data connection: the receiver's single-use token (16 bytes), the
/// body's length (4 bytes, big-endian), the bytes. The receiving node's <see cref="DataPlane"/> reads the
/// token and passes the connection to the actor that handed it out, which reads the rest; the offer,
/// the verdict (durable, corrupt, refused) and any error travel on Akka.Remote.
/// </summary>
public static class ChunkBody
{
    public const int LengthSize = 4;

    /// <summary>
    /// Sends one body to the route's node, on an idle pooled connection if there is one (and, should that
    /// one turn out closed, once more on a fresh one), and returns the connection for the caller to give
    /// back to the pool once the body is known to be whole, or to dispose. Throws
    /// <see cref="DataLinkUnreachableException"/> when no connection can be opened, IOException when one breaks.
    /// </summary>
    public static async Task<TcpClient> SendAsync(DataLinks links, DataRoute route, ReadOnlyMemory<byte> body, CancellationToken cancel)
    {
        if (links.Peers.TryTakeIdle(route.Host, route.Port) is { } pooled)
        {
            try
            {
                await WriteAsync(pooled, route.Token, body, links.Faults, cancel);
                return pooled;
            }
            catch (Exception e) when (e is IOException or SocketException && !cancel.IsCancellationRequested)
            {
                pooled.Dispose();
            }
        }
        var fresh = await PeerConnections.ConnectAsync(route.Host, route.Port, cancel);
        try
        {
            await WriteAsync(fresh, route.Token, body, links.Faults, cancel);
            return fresh;
        }
        catch
        {
            fresh.Dispose();
            throw;
        }
    }

    private static async Task WriteAsync(TcpClient client, byte[] token, ReadOnlyMemory<byte> body, DataLinkFaults? faults, CancellationToken cancel)
    {
        var header = new byte[DataPlane.TokenSize + LengthSize];
        token.CopyTo(header, 0);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(DataPlane.TokenSize), body.Length);
        var stream = client.GetStream();
        await stream.WriteAsync(header, cancel);
        if (faults is not null && faults.CutThisBody())
        {
            await stream.WriteAsync(body[..(body.Length / 2)], cancel);
            client.Client.Close();
            throw new IOException("data connection cut mid-chunk (fault injection)");
        }
        if (faults?.DamageThisBody?.Invoke() == true && body.Length > 0)
        {
            var damaged = body.ToArray();
            damaged[^1] ^= 0x01;
            body = damaged;
        }
        await stream.WriteAsync(body, cancel);
    }

    /// <summary>
    /// Reads one body of exactly <paramref name="expected"/> bytes, the token already taken by the data plane,
    /// into a new buffer the caller owns. Throws InvalidDataException when the length header says otherwise,
    /// EndOfStreamException when the connection ends first, OperationCanceledException after <paramref name="timeout"/>.
    /// </summary>
    public static async Task<ChunkBuffer> ReceiveAsync(Stream stream, int expected, TimeSpan timeout, CancellationToken cancel)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        deadline.CancelAfter(timeout);
        var header = new byte[LengthSize];
        await stream.ReadExactlyAsync(header, deadline.Token);
        var length = BinaryPrimitives.ReadInt32BigEndian(header);
        if (length != expected) throw new InvalidDataException($"a body of {length} bytes came where the chunk has {expected}");
        var buffer = ChunkBuffer.Rent(Math.Max(expected, 1));
        try
        {
            await buffer.FillFromAsync(stream, expected, deadline.Token);
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }
}
