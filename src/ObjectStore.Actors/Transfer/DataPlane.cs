using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Akka.Actor;
using Akka.Event;


namespace ObjectStore.Actors.Transfer;

/// <summary>
/// A node's bulk-data port: a plain TCP listener whose single-use 16-byte tokens the node's transfers hand
/// out (upload and download sessions to shells, chunk receivers and fetches to other nodes). A client
/// connects and sends the token; the connection then belongs to the transfer that handed it out.
/// For a client on the same machine there is also a Unix socket (Linux abstract namespace, a random
/// name) where it hands over the open file with the token instead (<see cref="FileHandOver"/>), and
/// the node reads the file itself: no byte crosses a socket.
/// </summary>
/// <remarks>
/// Why not only Akka.Remote messages: pushing a large file as 64 KiB messages costs seconds of CPU per
/// GiB on each side (serialization, envelopes, copies; docs/BENCHMARKS.md), on a 2-core machine the
/// whole budget of a put; and Akka.Remote has one TCP connection per node pair, so bulk data
/// would also queue up the cluster's heartbeats. TCP's own flow control is the back-pressure: the
/// session stops reading while its chunker is full. The control messages (ready, complete, errors)
/// stay on Akka.Remote, and a client that cannot reach this port falls back to frames.
/// </remarks>
public sealed class DataPlane : IDisposable
{
    public const int TokenSize = 16;
    private static readonly TimeSpan TokenReadTimeout = TimeSpan.FromSeconds(10);

    private readonly TcpListener _listener;
    private readonly ConcurrentDictionary<string, Expected> _expected = new();

    /// <summary>
    /// A session waiting for its connection or hand-over; <paramref name="Files"/> is how many files its hand-over brings,
    /// <paramref name="Batch"/> whether it takes them as one <see cref="LocalFilesOpened"/> (else one <see cref="LocalFileOpened"/>).
    /// </summary>
    private sealed record Expected(IActorRef Session, int Files, bool Batch);
    private readonly ILoggingAdapter _log;
    private readonly CancellationTokenSource _stop = new();

    private readonly Socket? _handOverListener;
    private long _handOvers;

    public DataPlane(string host, int port, ILoggingAdapter log, bool localHandOver = false)
    {
        _log = log;
        _listener = new TcpListener(ListenAddress(host), port);
        _listener.Start();
        Host = host;
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = AcceptLoopAsync(_listener.AcceptTcpClientAsync, PassToSessionAsync);
        if (localHandOver && FileHandOver.Supported) _handOverListener = ListenForHandOvers();
    }

    public string Host { get; }
    public int Port { get; }

    /// <summary>The address a node's own listeners (data plane, command host) bind for its configured host.</summary>
    public static IPAddress ListenAddress(string host) => host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(host);

    /// <summary>The abstract Unix socket name where local clients hand over files; empty when there is none.</summary>
    public string HandOverName { get; private set; } = "";

    /// <summary>Files handed over and accepted so far (for tests and the node's log).</summary>
    public long HandOvers => Interlocked.Read(ref _handOvers);

    /// <summary>
    /// Whether bytes of this size are worth a TCP connection to the data port (puts and gets alike): what
    /// fits in one window of frames goes as frames in one round trip, where a data connection would first
    /// cost a TCP handshake and a token exchange. (A hand-over on the node's machine costs neither.)
    /// </summary>
    public static bool WorthAConnection(long size, int window, int frameSize) => size > (long)window * frameSize;

    /// <summary>Registers a session; the connection that presents the returned token goes to it.</summary>
    public byte[] Expect(IActorRef session) => Expect(new Expected(session, 1, Batch: false));

    /// <summary>
    /// Registers a batch whose local hand-over brings <paramref name="files"/> files in one message, told to it as one
    /// <see cref="LocalFilesOpened"/> (a batch of one included); a hand-over with another count is refused. The token
    /// also opens a data connection.
    /// </summary>
    public byte[] Expect(IActorRef batch, int files) => Expect(new Expected(batch, files, Batch: true));

    private byte[] Expect(Expected expected)
    {
        var token = RandomNumberGenerator.GetBytes(TokenSize);
        _expected[Convert.ToHexString(token)] = expected;
        return token;
    }

    /// <summary>Whether clients on this machine can hand files over (the hand-over socket listens).</summary>
    public bool TakesHandOvers => HandOverName.Length > 0;

    public void Forget(byte[] token) => _expected.TryRemove(Convert.ToHexString(token), out _);

    /// <summary>
    /// The client's side: connects to a node's data port and presents the transfer's token. Throws
    /// SocketException, IOException or OperationCanceledException (after 5 s) when the port cannot be reached.
    /// </summary>
    public static async Task OpenAsync(TcpClient connection, string host, int port, byte[] token)
    {
        await TcpConnect.ConnectAsync(connection, host, port);
        await connection.GetStream().WriteAsync(token);
    }

    /// <summary>Accepts connections until the plane is disposed; each goes to <paramref name="handle"/>, which runs on its own.</summary>
    private async Task AcceptLoopAsync<T>(Func<CancellationToken, ValueTask<T>> accept, Func<T, Task> handle)
    {
        while (!_stop.IsCancellationRequested)
        {
            T client;
            try
            {
                client = await accept(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = handle(client);
        }
    }

    private Task PassToSessionAsync(TcpClient client) => PassToSessionAsync(client, TokenReadTimeout, reused: false);

    /// <summary>
    /// How long a connection another node keeps open between chunk bodies may stay silent before this
    /// plane closes it; longer than <see cref="PeerConnections.IdleLimit"/>, after which the other node stops lending it.
    /// </summary>
    public static readonly TimeSpan ReusedIdleTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A session read its body whole from a connection another node keeps between bodies: the next token
    /// on it goes to whichever session handed that one out.
    /// </summary>
    public void Reuse(TcpClient client) => _ = PassToSessionAsync(client, ReusedIdleTimeout, reused: true);

    /// <summary>Connections that presented a live token (a put's, a get's or a chunk body's), for tests and the node's log.</summary>
    public long TokensAccepted => Interlocked.Read(ref _tokensAccepted);
    private long _tokensAccepted;

    private async Task PassToSessionAsync(TcpClient client, TimeSpan timeoutForToken, bool reused)
    {
        try
        {
            client.NoDelay = true;
            var stream = client.GetStream();
            var token = new byte[TokenSize];
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
            {
                timeout.CancelAfter(timeoutForToken);
                await stream.ReadExactlyAsync(token, timeout.Token);
            }
            if (_expected.TryRemove(Convert.ToHexString(token), out var expected))
            {
                Interlocked.Increment(ref _tokensAccepted);
                expected.Session.Tell(new DataConnectionOpened(client));
                return;
            }
            _log.Warning("data connection from {0} presented an unknown or used token; closed", client.Client.RemoteEndPoint);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException or EndOfStreamException)
        {
            // A kept connection that its node closes, or that idles out, ends like this: nothing to report.
            if (!reused) _log.Info("data connection closed before its token arrived: {0}", e.Message);
        }
        client.Dispose();
    }

    private static readonly TimeSpan HandOverTimeout = TimeSpan.FromSeconds(10);

    private Socket? ListenForHandOvers()
    {
        // A random abstract name, sent with each token; anyone on the machine may connect (AbstractSocket),
        // but without a live token nothing is accepted.
        var name = "objectstore-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();
        Socket socket;
        try
        {
            socket = AbstractSocket.Listen(name);
        }
        catch (SocketException e)
        {
            _log.Info("no local file hand-over ({0}); clients on this machine send bytes over the data port", e.Message);
            return null;
        }
        HandOverName = name;
        _ = AcceptLoopAsync(socket.AcceptAsync, ReceiveHandOverAsync);
        return socket;
    }

    /// <summary>Token and file in; one byte back: 1 when a session took the file, 0 when not (the client then sends bytes instead).</summary>
    private async Task ReceiveHandOverAsync(Socket client)
    {
        using (client)
        {
            var accepted = false;
            try
            {
                // Wait for the message without holding a thread (a client that connects and sends
                // nothing must not tie up the thread pool), then take token and file in one call.
                using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
                {
                    timeout.CancelAfter(HandOverTimeout);
                    await client.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, timeout.Token);
                }
                var token = new byte[TokenSize];
                var files = FileHandOver.Receive(client, token, TimeSpan.FromSeconds(1));
                var key = Convert.ToHexString(token);
                if (files is null)
                    _log.Warning("a local hand-over came without a file or with a short token; refused");
                else if (!files.All(FileHandOver.IsSeekable))
                    _log.Warning("a local hand-over came with a pipe or socket instead of a file; refused");
                else if (!_expected.TryGetValue(key, out var expected))
                    _log.Warning("a local hand-over presented an unknown token; refused");
                else if (expected.Files != files.Count)
                    _log.Warning("a local hand-over brought {0} files where its transfer takes {1}; refused", files.Count, expected.Files);
                else if (_expected.TryRemove(new KeyValuePair<string, Expected>(key, expected)))
                {
                    Interlocked.Increment(ref _handOvers);
                    expected.Session.Tell(expected.Batch ? new LocalFilesOpened(files) : new LocalFileOpened(files[0]));
                    accepted = true;
                }
                if (!accepted && files is not null)
                    foreach (var f in files) f.Dispose();
                client.Send([accepted ? (byte)1 : (byte)0]);
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
            {
                _log.Info("local hand-over failed: {0}", e.Message);
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _handOverListener?.Dispose();
    }
}

/// <summary>A local client handed over its open file with this session's token; the session owns the handle now.</summary>
public sealed record LocalFileOpened(Microsoft.Win32.SafeHandles.SafeFileHandle File) : ILocalMessage;

/// <summary>A local client handed over a batch's open files in one message (in the order of its request, one or more); the batch owns them now.</summary>
public sealed record LocalFilesOpened(IReadOnlyList<Microsoft.Win32.SafeHandles.SafeFileHandle> Files) : ILocalMessage;

/// <summary>A client connected to the data plane with this session's token; the session owns the connection now.</summary>
public sealed record DataConnectionOpened(TcpClient Client) : ILocalMessage;
