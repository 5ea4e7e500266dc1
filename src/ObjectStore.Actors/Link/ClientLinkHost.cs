using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using ObjectStore.Actors.Serialization;

namespace ObjectStore.Actors.Link;

/// <summary>
/// A node's local link (`objectstore.transfer.local-link`): shell scripts on this machine send their store
/// requests here instead of over Akka.Remote, so they need not start an actor system with remoting (most of
/// a short script's time). Each connection is served by a <see cref="ClientLinkConnection"/>.
/// </summary>
/// <remarks>
/// Anyone on the machine may connect, as anyone may reach the node's loopback TCP port: the link accepts
/// the same store messages as Akka.Remote does, and nothing else.
/// </remarks>
public sealed class ClientLinkHost : IDisposable
{
    /// <summary>Connections served at once; one more is closed at once.</summary>
    public const int MaxConnections = 256;

    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private long _served;

    private ClientLinkHost(Socket listener, string name) => (_listener, Name) = (listener, name);

    /// <summary>The socket's abstract name (<see cref="LinkName.Of"/>).</summary>
    public string Name { get; }

    /// <summary>Connections accepted so far (for tests).</summary>
    public long Served => Interlocked.Read(ref _served);

    /// <summary>
    /// Listens under the name of the node's address until the actor system ends; null (logged) when the name is
    /// taken (another node of this address on this machine: it then serves none) or the platform has no abstract sockets.
    /// </summary>
    public static ClientLinkHost? Start(ActorSystem system, IActorRef coordinator)
    {
        var log = Logging.GetLogger(system, "client-link");
        var address = ((ExtendedActorSystem)system).Provider.DefaultAddress;
        if (!LinkName.Supported || address.Host is null || address.Port is null) return null;
        var name = LinkName.Of(address.Host, address.Port.Value);
        Socket socket;
        try
        {
            socket = Transfer.AbstractSocket.Listen(name);
        }
        catch (SocketException e)
        {
            log.Warning("no local link for shell scripts ({0}: {1}); they talk Akka.Remote", name, e.Message);
            return null;
        }
        var host = new ClientLinkHost(socket, name);
        system.RegisterOnTermination(host.Dispose);
        var serializer = (StoreSerializer)((ExtendedActorSystem)system).Serialization.FindSerializerForType(typeof(Protocol.StoreProtocol.ListBuckets));
        _ = Transfer.AcceptLoop.RunAsync(socket.AcceptAsync, MaxConnections,
            (client, closed) =>
            {
                Interlocked.Increment(ref host._served);
                var connection = new ClientLinkConnection(client, (ExtendedActorSystem)system, coordinator, serializer, log, host._stop.Token);
                _ = connection.ServeAsync().ContinueWith(_ => closed(), TaskScheduler.Default);
                return true;
            },
            client =>
            {
                log.Warning("client link: {0} connections already; one more refused", MaxConnections);
                client.Dispose();
            },
            log, "client link", host._stop.Token);
        return host;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
    }
}
