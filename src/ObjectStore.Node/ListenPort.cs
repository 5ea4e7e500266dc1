using System.Net;
using System.Net.Sockets;

namespace ObjectStore.Node;

/// <summary>
/// Whether another process already listens on a node's port. Akka.Remote's listener does not tell:
/// with its default <c>tcp-reuse-addr</c>, .NET on Linux sets SO_REUSEPORT too, so a second node on a
/// taken port starts "successfully" and the kernel splits incoming connections between the two
/// (seen: two `objectstore node` processes listening on one port, the second joining as a new
/// incarnation of the first). A plain listener (SO_REUSEADDR only) is refused while another listens,
/// yet is not blocked by the TIME_WAIT connections of a node that just died, so a restart still works.
/// </summary>
internal static class ListenPort
{
    public static bool IsTaken(string host, int port)
    {
        if (port == 0 || !IPAddress.TryParse(host == "localhost" ? "127.0.0.1" : host, out var address)) return false;
        try
        {
            var listener = new TcpListener(address, port);
            listener.Start();
            listener.Stop();
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return true;
        }
        catch (SocketException)
        {
            return false; // not ours to judge (an address of another machine, say): the node's own start reports it
        }
    }
}
