using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Akka.Actor;
using Akka.Event;
using ObjectStore.Actors.Storage;

namespace ObjectStore.Actors.Transfer;

/// <summary>
/// A node's bulk-data port: a plain TCP listener that upload sessions hand out, one single-use
/// 16-byte token per session. A client connects, sends the token, then the object's raw bytes.
/// </summary>
/// <remarks>
/// Why not only Akka.Remote messages: measured here, pushing 1 GiB as 64 KiB messages costs about
/// 4 s of CPU on each side (serialization, protobuf envelopes, copies), which on a 2-core machine is
/// the whole budget of a put; and Akka.Remote has one TCP connection per node pair, so bulk data
/// would also queue up the cluster's heartbeats. TCP's own flow control is the back-pressure: the
/// session stops reading while its chunker is full. The control messages (ready, complete, errors)
/// stay on Akka.Remote, and a client that cannot reach this port falls back to frames.
/// </remarks>
public sealed class DataPlane : IDisposable
{
    public const int TokenSize = 16;
    private static readonly TimeSpan TokenReadTimeout = TimeSpan.FromSeconds(10);

    private readonly TcpListener _listener;
    private readonly ConcurrentDictionary<string, IActorRef> _expected = new();
    private readonly ILoggingAdapter _log;
    private readonly CancellationTokenSource _stop = new();

    public DataPlane(string host, int port, ILoggingAdapter log)
    {
        _log = log;
        var address = host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(host);
        _listener = new TcpListener(address, port);
        _listener.Start();
        Host = host;
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = AcceptLoopAsync();
    }

    public string Host { get; }
    public int Port { get; }

    /// <summary>Registers a session; the connection that presents the returned token goes to it.</summary>
    public byte[] Expect(IActorRef session)
    {
        var token = RandomNumberGenerator.GetBytes(TokenSize);
        _expected[Convert.ToHexString(token)] = session;
        return token;
    }

    public void Forget(byte[] token) => _expected.TryRemove(Convert.ToHexString(token), out _);

    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The client's side: connects to a node's data port and presents the transfer's token. Throws
    /// SocketException, IOException or OperationCanceledException (after 5 s) when the port cannot be reached.
    /// </summary>
    public static async Task OpenAsync(TcpClient connection, string host, int port, byte[] token)
    {
        using (var timeout = new CancellationTokenSource(ConnectTimeout))
            await connection.ConnectAsync(host, port, timeout.Token);
        await connection.GetStream().WriteAsync(token);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = HandOverAsync(client);
        }
    }

    private async Task HandOverAsync(TcpClient client)
    {
        try
        {
            client.NoDelay = true;
            var stream = client.GetStream();
            var token = new byte[TokenSize];
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
            {
                timeout.CancelAfter(TokenReadTimeout);
                await stream.ReadExactlyAsync(token, timeout.Token);
            }
            if (_expected.TryRemove(Convert.ToHexString(token), out var session))
            {
                session.Tell(new DataConnectionOpened(client));
                return;
            }
            _log.Warning("data connection from {0} presented an unknown token; closed", client.Client.RemoteEndPoint);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException or EndOfStreamException)
        {
            _log.Info("data connection closed before its token arrived: {0}", e.Message);
        }
        client.Dispose();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}

/// <summary>A client connected to the data plane with this session's token; the session owns the connection now.</summary>
public sealed record DataConnectionOpened(TcpClient Client) : StorageProtocol.ILocalMessage;
