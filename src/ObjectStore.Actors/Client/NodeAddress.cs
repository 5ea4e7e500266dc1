using System.Net;
using System.Net.Sockets;

namespace ObjectStore.Actors.Client;

/// <summary>
/// The host names a node at HOST:PORT may answer to. Akka.Remote delivers a message only when it is
/// addressed to the exact host the node advertises (127.0.0.1 by default), and silently drops one sent
/// to another name of the same machine (localhost), so the client tries the names one by one.
/// </summary>
public static class NodeAddress
{
    private static readonly TimeSpan LookupLimit = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The host as given first when it is an IP address, else its IPv4 addresses first (what a node
    /// advertises by default) and the name last; an IP address is followed by the names it resolves back to.
    /// </summary>
    public static async Task<IReadOnlyList<string>> CandidatesAsync(string host)
    {
        var candidates = new List<string>();
        if (IPAddress.TryParse(host, out var ip))
        {
            candidates.Add(host);
            var entry = await LookupAsync(() => Dns.GetHostEntryAsync(ip));
            if (entry is not null) candidates.AddRange(new[] { entry.HostName }.Concat(entry.Aliases).Where(n => n.Length > 0));
        }
        else
        {
            var addresses = await LookupAsync(() => Dns.GetHostAddressesAsync(host)) ?? [];
            candidates.AddRange(addresses.Where(a => a.AddressFamily == AddressFamily.InterNetwork).Select(a => a.ToString()));
            candidates.Add(host);
        }
        return candidates.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    }

    /// <summary>Whether anything accepts TCP connections on HOST:PORT (within two seconds).</summary>
    public static async Task<bool> ListensAsync(string host, int port)
    {
        using var tcp = new TcpClient();
        using var limit = new CancellationTokenSource(LookupLimit);
        try
        {
            await tcp.ConnectAsync(host, port, limit.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    private static async Task<T?> LookupAsync<T>(Func<Task<T>> lookup) where T : class
    {
        try
        {
            return await lookup().WaitAsync(LookupLimit);
        }
        catch (Exception e) when (e is SocketException or TimeoutException or ArgumentException)
        {
            return null; // no such name, or no answer in time: the candidates we have must do
        }
    }
}
