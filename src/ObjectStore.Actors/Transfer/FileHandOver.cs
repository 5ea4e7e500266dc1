using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ObjectStore.Actors.Transfer;

/// <summary>
/// Passes an open file from one process to another over a Unix domain socket (SCM_RIGHTS), with the
/// transfer's token as the message. A shell on the node's machine hands the node the file it was
/// asked to put, instead of reading it and sending every byte over TCP; the node reads it once.
/// </summary>
/// <remarks>
/// Why by hand: .NET's sockets do not expose ancillary data (cmsg), and the packages that bind
/// sendmsg/recvmsg (Tmds.LibC, Mono.Unix) are unmaintained; two calls do not justify them. Linux
/// only, 64-bit (the struct layouts below are LP64 Linux's).
/// </remarks>
internal static unsafe partial class FileHandOver
{
    public static bool Supported => OperatingSystem.IsLinux() && IntPtr.Size == 8;

    private const int SolSocket = 1, ScmRights = 1;
    private const int MsgNoSignal = 0x4000, MsgCmsgCloexec = 0x40000000, MsgCtrunc = 0x8;
    private const int Eagain = 11, Eintr = 4;
    // CMSG_LEN(sizeof(int)) and CMSG_SPACE(sizeof(int)) on LP64 Linux: a 16-byte header, then the fd.
    private const int ControlLength = 20, ControlSpace = 24;

    [StructLayout(LayoutKind.Sequential)]
    private struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MessageHeader
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    private static partial nint SendMessage(int socket, MessageHeader* message, int flags);

    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    private static partial nint ReceiveMessage(int socket, MessageHeader* message, int flags);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "lseek", SetLastError = true)]
    private static partial long Seek(int fd, long offset, int whence);

    /// <summary>
    /// False for pipes, sockets and the like (lseek fails with ESPIPE): the node reads a handed-over file
    /// at offsets, up to the announced size, and a pipe could keep it waiting forever.
    /// </summary>
    public static bool IsSeekable(SafeFileHandle file)
    {
        var added = false;
        file.DangerousAddRef(ref added);
        try
        {
            return Seek((int)file.DangerousGetHandle(), 0, 1 /* SEEK_CUR */) >= 0;
        }
        finally
        {
            if (added) file.DangerousRelease();
        }
    }

    /// <summary>
    /// The client's side of a hand-over, for a put's file and a get's temp file alike: connects to the node's
    /// abstract socket <paramref name="socketName"/>, sends the token with the file, and reads the node's
    /// one-byte answer. False when the node refuses, or there is no such socket here (another machine,
    /// another user's namespace): the caller then sends or receives the bytes on the data port.
    /// </summary>
    public static bool Offer(string socketName, ReadOnlySpan<byte> token, SafeFileHandle file, TimeSpan timeout)
    {
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Connect(new UnixDomainSocketEndPoint("\0" + socketName));
            Send(socket, token, file, timeout);
            socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
            var answer = new byte[1];
            return socket.Receive(answer) == 1 && answer[0] == 1;
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Sends <paramref name="token"/> with <paramref name="file"/> attached. Throws IOException when the socket does not take it.</summary>
    public static void Send(Socket socket, ReadOnlySpan<byte> token, SafeFileHandle file, TimeSpan timeout)
    {
        var added = false;
        file.DangerousAddRef(ref added);
        try
        {
            var control = stackalloc byte[ControlSpace];
            new Span<byte>(control, ControlSpace).Clear();
            *(nuint*)control = ControlLength;
            *(int*)(control + 8) = SolSocket;
            *(int*)(control + 12) = ScmRights;
            *(int*)(control + 16) = (int)file.DangerousGetHandle();
            fixed (byte* data = token)
            {
                var iov = new IoVec { Base = data, Length = (nuint)token.Length };
                var message = new MessageHeader { Iov = &iov, IovLength = 1, Control = control, ControlLength = ControlSpace };
                var sent = Transfer(socket, &message, send: true, timeout);
                // A Unix stream socket takes a 16-byte message whole or not at all.
                if (sent != token.Length) throw new IOException($"the node took {sent} of {token.Length} bytes of the hand-over");
            }
        }
        finally
        {
            if (added) file.DangerousRelease();
        }
    }

    /// <summary>
    /// Receives a token into <paramref name="token"/> and the file sent with it; null when the peer sent
    /// no file, a short token, or closed. Any descriptor received with a bad message is closed.
    /// </summary>
    public static SafeFileHandle? Receive(Socket socket, Span<byte> token, TimeSpan timeout)
    {
        var control = stackalloc byte[ControlSpace];
        new Span<byte>(control, ControlSpace).Clear();
        fixed (byte* data = token)
        {
            var iov = new IoVec { Base = data, Length = (nuint)token.Length };
            var message = new MessageHeader { Iov = &iov, IovLength = 1, Control = control, ControlLength = ControlSpace };
            var received = Transfer(socket, &message, send: false, timeout);
            var hasFile = message.ControlLength >= ControlLength && *(int*)(control + 8) == SolSocket && *(int*)(control + 12) == ScmRights;
            var fd = hasFile ? *(int*)(control + 16) : -1;
            if (received != token.Length || (message.Flags & MsgCtrunc) != 0 || fd < 0)
            {
                if (fd >= 0) Close(fd);
                return null;
            }
            return new SafeFileHandle(fd, ownsHandle: true);
        }
    }

    /// <summary>sendmsg or recvmsg, retried while the (possibly non-blocking) socket says "try again", waiting for it in between.</summary>
    private static nint Transfer(Socket socket, MessageHeader* message, bool send, TimeSpan timeout)
    {
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        var fd = (int)socket.Handle;
        while (true)
        {
            var result = send ? SendMessage(fd, message, MsgNoSignal) : ReceiveMessage(fd, message, MsgCmsgCloexec);
            if (result >= 0) return result;
            var errno = Marshal.GetLastPInvokeError();
            if (errno == Eintr) continue;
            var left = deadline - Environment.TickCount64;
            if (errno != Eagain || left <= 0)
                throw new IOException(errno == Eagain ? "the hand-over timed out" : $"the hand-over failed: {Marshal.GetPInvokeErrorMessage(errno)}");
            socket.Poll(TimeSpan.FromMilliseconds(left), send ? SelectMode.SelectWrite : SelectMode.SelectRead);
        }
    }
}
