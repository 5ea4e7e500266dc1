using System.Collections.Concurrent;
using System.Net.Sockets;

namespace ObjectStore.Actors.Transfer;

/// <summary>
/// Open connections to other nodes' data planes, kept between chunk bodies: a 1 MiB chunk would
/// otherwise pay a TCP handshake each, which across machines is a round trip per chunk. A connection
/// is lent to one transfer at a time and comes back only when its last body was whole; each body on it
/// still presents its own single-use token (<see cref="ChunkBody"/>).
/// </summary>
/// <remarks>
/// A connection idle longer than <see cref="IdleLimit"/> is closed rather than lent: the receiving
/// plane closes idle connections after <see cref="DataPlane.ReusedIdleTimeout"/>, which is longer, so
/// a lent connection is never one the other end is closing.
/// </remarks>
public sealed class PeerConnections : IDisposable
{
    public static readonly TimeSpan IdleLimit = TimeSpan.FromSeconds(10);
    private const int KeptPerPeer = 16;

    private readonly ConcurrentDictionary<(string Host, int Port), ConcurrentQueue<(TcpClient Client, long Since)>> _idle = new();
    private volatile bool _disposed;

    /// <summary>An idle connection to the peer, or null when there is none.</summary>
    public TcpClient? TryTakeIdle(string host, int port)
    {
        if (!_idle.TryGetValue((host, port), out var queue)) return null;
        while (queue.TryDequeue(out var idle))
        {
            if (Environment.TickCount64 - idle.Since < (long)IdleLimit.TotalMilliseconds && idle.Client.Connected) return idle.Client;
            idle.Client.Dispose();
        }
        return null;
    }

    /// <summary>A new connection; throws <see cref="DataLinkUnreachableException"/> when the peer's data port does not answer.</summary>
    public static async Task<TcpClient> ConnectAsync(string host, int port, CancellationToken cancel)
    {
        var client = new TcpClient { NoDelay = true };
        try
        {
            await TcpConnect.ConnectAsync(client, host, port, cancel);
            return client;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !cancel.IsCancellationRequested)
        {
            client.Dispose();
            throw new DataLinkUnreachableException($"data port {host}:{port} does not answer: {e.Message}");
        }
    }

    /// <summary>Gives back a connection whose last body was sent whole, for the next body to this peer.</summary>
    public void Return(string host, int port, TcpClient client)
    {
        var queue = _idle.GetOrAdd((host, port), _ => new ConcurrentQueue<(TcpClient, long)>());
        if (_disposed || queue.Count >= KeptPerPeer)
        {
            client.Dispose();
            return;
        }
        queue.Enqueue((client, Environment.TickCount64));
    }

    public void Dispose()
    {
        _disposed = true;
        foreach (var queue in _idle.Values)
            while (queue.TryDequeue(out var idle)) idle.Client.Dispose();
    }
}

/// <summary>The other node's data port could not be reached (a firewall, a wrong address): the transfer falls back to Akka.Remote parts.</summary>
public sealed class DataLinkUnreachableException(string message) : IOException(message);
