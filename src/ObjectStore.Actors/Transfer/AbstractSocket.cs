using System.Net.Sockets;

namespace ObjectStore.Actors.Transfer;

/// <summary>
/// A Unix stream socket in Linux's abstract namespace (the name's leading NUL): nothing on disk to clean up after a
/// crash. Anyone on the machine (in the same network namespace) may connect, as anyone may reach a loopback TCP port.
/// </summary>
internal static class AbstractSocket
{
    public static UnixDomainSocketEndPoint EndPoint(string name) => new("\0" + name);

    /// <summary>A socket listening under <paramref name="name"/>.</summary>
    /// <exception cref="SocketException">The name is taken, or the platform has no such sockets.</exception>
    public static Socket Listen(string name)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(EndPoint(name));
            socket.Listen(64);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
