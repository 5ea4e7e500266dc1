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
    public static bool Offer(string socketName, ReadOnlySpan<byte> token, SafeFileHandle file, TimeSpan timeout) =>
        Offer(socketName, token, [file], timeout);

    /// <summary>As the one-file offer, with several files in one message (a batch of small gets: one temp file per object).</summary>
    public static bool Offer(string socketName, ReadOnlySpan<byte> token, IReadOnlyList<SafeFileHandle> files, TimeSpan timeout)
    {
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Connect(AbstractSocket.EndPoint(socketName));
            Send(socket, token, files, timeout);
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
    public static void Send(Socket socket, ReadOnlySpan<byte> token, SafeFileHandle file, TimeSpan timeout) => Send(socket, token, [file], timeout);

    /// <summary>
    /// Files one message carries at most: a batch of gets or puts hands over one file per object. (Linux takes up to
    /// SCM_MAX_FD, 253, in one message.)
    /// </summary>
    public const int MaxFiles = Protocol.StoreProtocol.GetSmallObjects.MaxKeys > Protocol.StoreProtocol.PutSmallObjects.MaxObjects
        ? Protocol.StoreProtocol.GetSmallObjects.MaxKeys
        : Protocol.StoreProtocol.PutSmallObjects.MaxObjects;

    // CMSG_LEN and CMSG_SPACE of n descriptors on LP64 Linux: a 16-byte header, then the fds (the space padded to 8 bytes).
    private static int ControlLengthOf(int files) => 16 + 4 * files;
    private static int ControlSpaceOf(int files) => 16 + (4 * files + 7) / 8 * 8;

    /// <summary>Sends <paramref name="token"/> with <paramref name="files"/> attached, in order, in one message.</summary>
    public static void Send(Socket socket, ReadOnlySpan<byte> token, IReadOnlyList<SafeFileHandle> files, TimeSpan timeout)
    {
        if (files.Count is 0 or > MaxFiles) throw new ArgumentOutOfRangeException(nameof(files), $"1 to {MaxFiles} files in one hand-over");
        var added = new bool[files.Count];
        try
        {
            for (var i = 0; i < files.Count; i++) files[i].DangerousAddRef(ref added[i]);
            var space = ControlSpaceOf(files.Count);
            var control = stackalloc byte[space];
            new Span<byte>(control, space).Clear();
            *(nuint*)control = (nuint)ControlLengthOf(files.Count);
            *(int*)(control + 8) = SolSocket;
            *(int*)(control + 12) = ScmRights;
            for (var i = 0; i < files.Count; i++) *(int*)(control + 16 + 4 * i) = (int)files[i].DangerousGetHandle();
            fixed (byte* data = token)
            {
                var iov = new IoVec { Base = data, Length = (nuint)token.Length };
                var message = new MessageHeader { Iov = &iov, IovLength = 1, Control = control, ControlLength = (nuint)space };
                var sent = Transfer(socket, &message, send: true, timeout);
                // A Unix stream socket takes a 16-byte message whole or not at all.
                if (sent != token.Length) throw new IOException($"the node took {sent} of {token.Length} bytes of the hand-over");
            }
        }
        finally
        {
            for (var i = 0; i < files.Count; i++) if (added[i]) files[i].DangerousRelease();
        }
    }

    /// <summary>
    /// Receives a token into <paramref name="token"/> and the files sent with it (1 to <see cref="MaxFiles"/>, in the
    /// order sent); null when the peer sent no file, a short token, more files than fit, or closed. Any descriptor
    /// received with a bad message is closed.
    /// </summary>
    public static IReadOnlyList<SafeFileHandle>? Receive(Socket socket, Span<byte> token, TimeSpan timeout)
    {
        var space = ControlSpaceOf(MaxFiles);
        var control = stackalloc byte[space];
        new Span<byte>(control, space).Clear();
        fixed (byte* data = token)
        {
            var iov = new IoVec { Base = data, Length = (nuint)token.Length };
            var message = new MessageHeader { Iov = &iov, IovLength = 1, Control = control, ControlLength = (nuint)space };
            var received = Transfer(socket, &message, send: false, timeout);
            // Every descriptor that arrived is collected (a forged message may carry several headers), so that a
            // bad message leaves none open here.
            var fds = new List<int>();
            var wellFormed = true;
            for (var at = 0L; at + 16 <= (long)message.ControlLength;)
            {
                var length = (long)*(nuint*)(control + at);
                if (length < 16 || at + length > (long)message.ControlLength) break;
                var isRights = *(int*)(control + at + 8) == SolSocket && *(int*)(control + at + 12) == ScmRights;
                if (isRights)
                    for (var i = 0; i < (length - 16) / 4; i++) fds.Add(*(int*)(control + at + 16 + 4 * i));
                wellFormed &= isRights && (length - 16) % 4 == 0;
                at += (length + 7) / 8 * 8;
            }
            if (received != token.Length || (message.Flags & MsgCtrunc) != 0 || !wellFormed || fds.Count is 0 or > MaxFiles || fds.Any(fd => fd < 0))
            {
                foreach (var fd in fds) if (fd >= 0) Close(fd);
                return null;
            }
            return fds.Select(fd => new SafeFileHandle(fd, ownsHandle: true)).ToList();
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
