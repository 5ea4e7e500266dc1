using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;

namespace ObjectStore.Actors.Commands;

/// <summary>
/// A node's command host (`objectstore.cmd.host`/`port`): a TCP listener that gives every connection a
/// <see cref="CommandConnection"/> actor of its own, which answers `objectstore cmd` from the palettes.
/// </summary>
public sealed class CommandHost : IDisposable
{
    /// <summary>Connections served at once; one more is told so and closed.</summary>
    public const int MaxConnections = 256;

    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private long _connections;

    private CommandHost(TcpListener listener) => _listener = listener;

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Binds host:port (port 0: any free one) and serves until the actor system ends.</summary>
    /// <exception cref="SocketException">The port is taken, or the host is not an address of this machine.</exception>
    public static CommandHost Start(CommandContextFactory context, string host, int port, IReadOnlyList<ICommandPalette> palettes)
    {
        var listener = new TcpListener(Transfer.DataPlane.ListenAddress(host), port);
        listener.Start();
        var server = new CommandHost(listener);
        var ctx = context(listener.LocalEndpoint.ToString()!);
        ctx.System.RegisterOnTermination(server.Dispose);
        _ = server.AcceptLoopAsync(ctx, palettes);
        return server;
    }

    private Task AcceptLoopAsync(CommandContext context, IReadOnlyList<ICommandPalette> palettes) =>
        Transfer.AcceptLoop.RunAsync(_listener.AcceptTcpClientAsync, MaxConnections,
            (client, closed) =>
            {
                try
                {
                    context.System.ActorOf(CommandConnection.Props(client, palettes, context, closed), $"cmd-connection-{++_connections}");
                    return true;
                }
                catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
                {
                    client.Dispose(); // the actor system is ending
                    return false;
                }
            },
            client => _ = CommandConnection.RefuseAsync(client, context, $"the node serves at most {MaxConnections} command connections at once; try again"),
            Logging.GetLogger(context.System, "command-host"), "command host", _stop.Token);

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }
}

/// <summary>Builds the context once the host knows the address it listens on.</summary>
public delegate CommandContext CommandContextFactory(string commandAddress);
