using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;
using ObjectStore.Actors.Transfer;

namespace ObjectStore.Actors.Tests;

/// <summary>A client's side of a local hand-over, done by hand so that a test can send what it likes: any token, any files.</summary>
internal static class HandOverClient
{
    /// <summary>Hands <paramref name="files"/> over in one message with <paramref name="token"/>; the node's answer (1 taken, 0 refused).</summary>
    public static int HandOver(string name, byte[] token, IReadOnlyList<SafeFileHandle> files)
    {
        using var socket = Connect(name);
        FileHandOver.Send(socket, token, files, TimeSpan.FromSeconds(10));
        socket.ReceiveTimeout = 10_000;
        var answer = new byte[1];
        return socket.Receive(answer) == 1 ? answer[0] : -1;
    }

    public static Socket Connect(string name)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint("\0" + name));
        return socket;
    }
}
