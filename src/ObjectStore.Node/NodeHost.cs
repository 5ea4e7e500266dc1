using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ObjectStore.Actors;
using ObjectStore.Actors.Commands;

namespace ObjectStore.Node;

/// <summary>Marker for the coordinator in Akka.Hosting's actor registry.</summary>
public sealed class CoordinatorKey;

/// <summary>A node on Akka.Hosting: one actor system with the node's actors (StoreNode.Start).</summary>
public static class NodeHost
{
    public static IHost Build(Config config, StoreSettings settings, LogLevel consoleLogLevel,
        IReadOnlyList<(string Host, int Port)> seeds, Action<ActorSystem, StoreNode.Handles>? started = null, bool stopsOnCtrlC = true)
    {
        // No default sources: they add appsettings.json with reload-on-change, i.e. a recursive
        // FileSystemWatcher on the working directory, which then wakes on every chunk the node writes
        // when the data directory lies below it. Everything is configured through akka.hocon.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
            o.UseUtcTimestamp = true;
        });
        // Like Akka's log (StderrLogger), on stderr.
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(consoleLogLevel);
        // In `local` the shell owns Ctrl+C (it cancels the running command); the nodes stop when the shell ends.
        if (!stopsOnCtrlC) builder.Services.AddSingleton<IHostLifetime, ShellOwnedLifetime>();
        builder.Services.AddAkka(Actors.Client.StoreClient.NodeSystemName, (akka, _) =>
        {
            akka.AddHocon(StoreNode.WithNodeRole(WithSeeds(config, seeds), settings.DataDirectory), HoconAddMode.Prepend);
            akka.WithActors((system, registry) =>
            {
                var handles = StoreNode.Start(system, settings);
                registry.Register<CoordinatorKey>(handles.Coordinator);
                StartCommandHost(system, config, settings, handles);
                StartMetrics(system, config, handles);
                JoinCluster(system);
                started?.Invoke(system, handles);
            });
        });
        return builder.Build();
    }

    /// <summary>The command host of `objectstore cmd`, on objectstore.cmd.host/port (port 0: none).</summary>
    private static void StartCommandHost(ActorSystem system, Config config, StoreSettings settings, StoreNode.Handles handles)
    {
        var port = config.GetInt("objectstore.cmd.port", 0);
        if (port == 0) return;
        var log = RecentLog.Start(system);
        var started = DateTimeOffset.UtcNow;
        var host = CommandHost.Start(address => new CommandContext(system, config, settings, handles, log, address, started),
            config.GetString("objectstore.cmd.host", "127.0.0.1"), port, CommandPalettes.BuiltIn());
        Console.Out.WriteLine($"command host on {config.GetString("objectstore.cmd.host", "127.0.0.1")}:{host.Port} (objectstore cmd)");
    }

    /// <summary>/metrics, /alive and /ready on objectstore.metrics.port (0: none), on the node's host.</summary>
    private static void StartMetrics(ActorSystem system, Config config, StoreNode.Handles handles)
    {
        var port = config.GetInt("objectstore.metrics.port", 0);
        if (port == 0) return;
        var host = config.GetString("akka.remote.dot-netty.tcp.hostname", "127.0.0.1");
        MetricsEndpoint.Start(system, handles.Coordinator, host, port);
        Console.Out.WriteLine($"metrics on http://{host}:{port}/metrics (/alive, /ready)");
    }

    /// <summary>
    /// The --seed nodes replace the configuration's seed-nodes (a config/ file's), so Akka joins exactly
    /// those by itself and `members` can name them while they do not answer.
    /// </summary>
    private static Config WithSeeds(Config config, IReadOnlyList<(string Host, int Port)> seeds)
    {
        if (seeds.Count == 0) return config;
        var list = string.Join(", ", seeds.Select(s => NodeConfig.Quote($"akka.tcp://{Actors.Client.StoreClient.NodeSystemName}@{s.Host}:{s.Port}")));
        return ConfigurationFactory.ParseString($"akka.cluster.seed-nodes = [{list}]").WithFallback(config);
    }

    /// <summary>With no seeds at all (none given, none configured) the node joins itself: the first node of a new cluster.</summary>
    private static void JoinCluster(ActorSystem system)
    {
        if (((ExtendedActorSystem)system).Provider is not Akka.Cluster.ClusterActorRefProvider) return;
        var cluster = Akka.Cluster.Cluster.Get(system);
        if (cluster.Settings.SeedNodes.Count == 0) cluster.Join(cluster.SelfAddress);
    }

    private sealed class ShellOwnedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    public static string AddressOf(ActorSystem system)
    {
        var address = ((ExtendedActorSystem)system).Provider.DefaultAddress;
        return $"{address.Host}:{address.Port}";
    }
}
