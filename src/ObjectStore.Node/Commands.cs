using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ObjectStore.Actors;
using ObjectStore.Actors.Client;
using ObjectStore.Actors.Shell;

namespace ObjectStore.Node;

/// <summary>The three things the executable does. Exit codes: 0 done, 1 a command failed, 2 could not start.</summary>
public static partial class Commands
{
    /// <summary>Failure detection (10 s) plus the split-brain resolver's stable-after (20 s) plus removal, with room to spare.</summary>
    private static readonly TimeSpan PreviousIncarnationLimit = TimeSpan.FromSeconds(90);

    public static async Task<int> RunNodeAsync(string? data, string? host, int? port, int? factor, string[] seeds, string? configFile, int? cmdPort,
        int? metricsPort, bool gateway, CancellationToken cancel)
    {
        if (factor is < 1 or > 32)
        {
            Console.Error.WriteLine($"error: --factor must be 1..32, got {factor}");
            return 2;
        }
        var overrides = NodeOverrides(data, host, port, factor, cmdPort).Concat(NodeLogging)
            .Concat(metricsPort is { } m ? [$"objectstore.metrics.port = {m}"] : [])
            // A gateway joins without the storage role: placement never picks it, and it reads and writes through the storage nodes.
            .Concat(gateway ? ["akka.cluster.roles = [\"gateway\"]"] : []);
        if (!TryLoad(configFile, overrides, out var config, out var settings)) return 2;
        var seedAddresses = new List<(string Host, int Port)>();
        foreach (var seed in seeds)
        {
            if (!TryParseAddress(seed, out var seedHost, out var seedPort))
            {
                Console.Error.WriteLine($"error: --seed must be HOST:PORT, got '{seed}'");
                return 2;
            }
            seedAddresses.Add((seedHost, seedPort));
        }
        var selfHost = config.GetString("akka.remote.dot-netty.tcp.hostname", "127.0.0.1");
        var selfPort = config.GetInt("akka.remote.dot-netty.tcp.port", 0);
        if (PortInUse(selfHost, selfPort)) return 2;
        var commandPort = config.GetInt("objectstore.cmd.port", 0);
        if (commandPort != 0 && PortInUse(config.GetString("objectstore.cmd.host", "127.0.0.1"), commandPort, "--cmd-port")) return 2;
        var scrapePort = config.GetInt("objectstore.metrics.port", 0);
        if (scrapePort != 0 && PortInUse(selfHost, scrapePort, "--metrics-port")) return 2;
        if (!TryLoad(configFile, ShellOverrides, out var clientConfig, out _)) return 2;
        seedAddresses = await SeedAddresses.ResolveAsync(clientConfig, settings, seedAddresses, selfHost, selfPort);
        var configSeeds = new List<(string Host, int Port)>();
        foreach (var seed in config.GetStringList("akka.cluster.seed-nodes"))
        {
            if (!Address.TryParse(seed, out var address) || address.Host is null || address.Port is null)
            {
                Console.Error.WriteLine($"error: bad configuration: akka.cluster.seed-nodes has '{seed}', not an address like akka.tcp://objectstore@HOST:PORT");
                return 2;
            }
            configSeeds.Add((address.Host, address.Port.Value));
        }
        try
        {
            await PreviousIncarnation.WaitUntilGoneAsync(clientConfig, settings, selfHost, selfPort,
                seedAddresses.Count > 0 ? seedAddresses : configSeeds, PreviousIncarnationLimit, cancel);
        }
        catch (OperationCanceledException)
        {
            return 0; // Ctrl+C while waiting
        }
        using var app = NodeHost.Build(config, settings, LogLevel.Information, seedAddresses, (system, handles) =>
        {
            // Scripts and tests wait for this line to learn the bound port.
            Console.Out.WriteLine($"objectstore node {handles.NodeId} listening on {NodeHost.AddressOf(system)}, data in {Path.GetFullPath(settings.DataDirectory)}");
            Console.Out.Flush();
        });
        try
        {
            await app.StartAsync(cancel);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Console.Error.WriteLine($"error: the node could not start: {e.GetBaseException().Message}");
            return 2;
        }
        await app.WaitForShutdownAsync(cancel);
        return 0;
    }

    /// <summary>
    /// The embedded default: <paramref name="nodes"/> nodes in this process on loopback — the first is the
    /// seed (on --port, else a free port), the others join it — each with its own data directory
    /// DATA/n1..nN, and the shell on the first.
    /// </summary>
    public static async Task<int> RunLocalAsync(string? data, int? port, int nodes, int? factor, string? configFile, string? script, int? cmdPort = null)
    {
        if (nodes is < 1 or > 32)
        {
            Console.Error.WriteLine($"error: --nodes must be 1..32, got {nodes}");
            return 2;
        }
        if (factor is < 1 or > 32)
        {
            Console.Error.WriteLine($"error: --factor must be 1..32, got {factor}");
            return 2;
        }
        if (!TryLoad(configFile, [], out var baseConfig, out var baseSettings)) return 2;
        // --port P: node i listens on P+i-1, the same ports on every run (scripts and firewalls can name them).
        if (port is { } firstPort)
        {
            if (firstPort < 1 || firstPort + nodes - 1 > 65535)
            {
                Console.Error.WriteLine($"error: --port must leave room for {nodes} ports up to 65535, got {firstPort}");
                return 2;
            }
            for (var i = 0; i < nodes; i++)
                if (PortInUse("127.0.0.1", firstPort + i)) return 2;
        }
        var root = data ?? baseSettings.DataDirectory;
        // A local cluster smaller than the configured factor is meant to be that small (one node: factor 1).
        if (factor is null && baseSettings.Replication.Factor > nodes) factor = nodes;
        var apps = new List<IHost>();
        try
        {
            (string Host, int Port)? seed = null;
            for (var i = 1; i <= nodes; i++)
            {
                // Node warnings (a disk error, a lost peer) go to stderr, so stdout carries only the shell's results.
                // Each node's command host on its own port: --cmd-port P gives P+i-1, else the next free one from 9110.
                var commandPort = cmdPort is { } c ? (c == 0 ? 0 : c + i - 1) : NextFreePort(9110 + i - 1);
                var overrides = NodeOverrides(Path.Combine(root, $"n{i}"), "127.0.0.1", port is { } p ? p + i - 1 : 0, factor, commandPort)
                    .Concat(["akka.loglevel = WARNING", "akka.stdout-loglevel = OFF", "akka.loggers = [\"ObjectStore.Node.StderrLogger, objectstore\"]"]);
                if (!TryLoad(configFile, overrides, out var config, out var settings)) return 2;
                var app = NodeHost.Build(config, settings, LogLevel.Warning, seed is null ? [] : [seed.Value], stopsOnCtrlC: false);
                apps.Add(app);
                await app.StartAsync();
                var system = app.Services.GetRequiredService<ActorSystem>();
                seed ??= ("127.0.0.1", ((ExtendedActorSystem)system).Provider.DefaultAddress.Port!.Value);
                Console.WriteLine($"node {i} on {NodeHost.AddressOf(system)}, data in {Path.GetFullPath(settings.DataDirectory)}");
            }
            var first = apps[0].Services.GetRequiredService<ActorSystem>();
            if (!await WaitForMembersAsync(first, nodes, TimeSpan.FromSeconds(30)))
            {
                Console.Error.WriteLine($"error: the {nodes} local nodes did not form a cluster within 30s");
                return 2;
            }
            Console.WriteLine($"local cluster of {nodes} node(s) is up; the shell talks to node 1 ('help' lists the commands)");
            var coordinator = apps[0].Services.GetRequiredService<ActorRegistry>().Get<CoordinatorKey>();
            var firstSettings = StoreSettings.FromConfig(NodeConfig.Load(configFile, NodeOverrides(Path.Combine(root, "n1"), null, null)));
            var shell = first.ActorOf(ShellActor.Props(new StoreClient(first, coordinator, firstSettings), new ConsoleShellOutput()), "shell");
            return await ConsoleShell.RunAsync(ConsoleShell.Through(shell), script);
        }
        finally
        {
            // The nodes leave one after the other, and each departure makes the others log lost
            // associations: expected here, and noise in a shell that is closing, so logging stops first.
            foreach (var app in apps)
                app.Services.GetRequiredService<ActorSystem>().EventStream.SetLogLevel((Akka.Event.LogLevel)((int)Akka.Event.LogLevel.ErrorLevel + 1));
            foreach (var app in Enumerable.Reverse(apps))
            {
                await app.StopAsync(TimeSpan.FromSeconds(15));
                app.Dispose();
            }
        }
    }

    private static async Task<bool> WaitForMembersAsync(ActorSystem system, int count, TimeSpan timeout)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        var deadline = DateTime.UtcNow + timeout;
        while (cluster.State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up) < count)
        {
            if (DateTime.UtcNow > deadline) return false;
            await Task.Delay(100);
        }
        return true;
    }

    /// <summary>A node's log on stderr: its stdout has the one "listening on" line that scripts wait for.</summary>
    private static readonly string[] NodeLogging =
    [
        "akka.stdout-loglevel = OFF",
        "akka.loggers = [\"ObjectStore.Node.StderrLogger, objectstore\"]",
    ];

    private static int NextFreePort(int from)
    {
        for (var candidate = from; candidate < from + 100 && candidate <= 65535; candidate++)
            if (!ListenPort.IsTaken("127.0.0.1", candidate)) return candidate;
        return 0; // none free nearby: this node runs without a command host
    }

    private static IEnumerable<string> NodeOverrides(string? data, string? host, int? port, int? factor = null, int? cmdPort = null)
    {
        if (cmdPort is { } c) yield return $"objectstore.cmd.port = {c}";
        if (factor is { } f)
        {
            // The quorum follows the factor: a majority of the copies.
            yield return $"objectstore.replication.factor = {f}";
            yield return $"objectstore.replication.write-quorum = {f / 2 + 1}";
        }
        if (data is not null) yield return $"objectstore.data-dir = {NodeConfig.Quote(data)}";
        if (host is not null) yield return $"akka.remote.dot-netty.tcp.hostname = {NodeConfig.Quote(host)}";
        if (port is not null) yield return $"akka.remote.dot-netty.tcp.port = {port}";
    }

    private static bool TryLoad(string? configFile, IEnumerable<string> overrides, out Config config, out StoreSettings settings)
    {
        try
        {
            config = NodeConfig.Load(configFile, overrides);
            settings = StoreSettings.FromConfig(config);
            return true;
        }
        catch (Exception e) when (e is ConfigurationException or FileNotFoundException or ArgumentException or FormatException)
        {
            Console.Error.WriteLine($"error: bad configuration: {e.Message}");
            config = null!;
            settings = null!;
            return false;
        }
    }

    private static bool PortInUse(string host, int port, string option = "--port")
    {
        if (!ListenPort.IsTaken(host, port)) return false;
        Console.Error.WriteLine($"error: {host}:{port} is already in use (another node on this port?); choose another {option}");
        return true;
    }

    internal static bool TryParseAddress(string text, out string host, out int port)
    {
        host = "";
        port = 0;
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text[(colon + 1)..], out port) || port is <= 0 or > 65535) return false;
        host = text[..colon];
        return true;
    }
}
