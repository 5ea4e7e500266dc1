using System.Net.Sockets;

namespace ObjectStore.Actors.Transfer;

/// <summary>Opening a TCP connection within a time limit, which TcpClient.ConnectAsync does not set by itself.</summary>
internal static class TcpConnect
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>Connects <paramref name="client"/>; throws SocketException, or OperationCanceledException after <see cref="Timeout"/> or when <paramref name="cancel"/> fires.</summary>
    public static async Task ConnectAsync(TcpClient client, string host, int port, CancellationToken cancel = default)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        limit.CancelAfter(Timeout);
        await client.ConnectAsync(host, port, limit.Token);
    }
}
