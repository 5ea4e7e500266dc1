using Akka.Actor;
using Akka.Configuration;
using ObjectStore.Actors;
using ObjectStore.Actors.Client;
using ObjectStore.Actors.Shell;

namespace ObjectStore.Node;

/// <summary>`objectstore shell`: a script over a node's local link, or the shell actor over Akka.Remote.</summary>
public static partial class Commands
{
    public static async Task<int> RunShellAsync(string nodeAddress, string? script, string? configFile)
    {
        if (!TryParseAddress(nodeAddress, out var nodeHost, out var nodePort))
        {
            Console.Error.WriteLine($"error: --node must be HOST:PORT, got '{nodeAddress}'");
            return 2;
        }
        if (!TryLoad(configFile, ShellOverrides, out var config, out var settings)) return 2;
        // The host's other names, looked up (a DNS or hosts lookup) at most once: for the link, then for Akka.Remote.
        var lookup = new Lazy<Task<IReadOnlyList<string>>>(() => NodeAddress.CandidatesAsync(nodeHost));
        Func<Task<IReadOnlyList<string>>> names = () => lookup.Value;
        if ((script is not null || Console.IsInputRedirected) && settings.LocalLink
            && await NodeLink.TryConnectAsync(nodeHost, nodePort, names) is { } link)
            return await RunScriptOverLinkAsync(link, nodeHost, nodePort, names, script, config, settings);
        var system = ActorSystem.Create("objectstore-shell", config);
        try
        {
            StoreClient client;
            try
            {
                client = await StoreClient.ConnectAsync(system, nodeHost, nodePort, settings, names);
            }
            catch (StoreException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
            var shell = system.ActorOf(ShellActor.Props(client, new ConsoleShellOutput()), "shell");
            return await ConsoleShell.RunAsync(ConsoleShell.Through(shell), script);
        }
        finally
        {
            await TerminateAsync(system);
        }
    }

    /// <summary>
    /// A script against a node on this machine: its commands go over the node's local link, run one after the
    /// other without a shell actor, and an actor system with Akka.Remote starts only if one needs a transfer
    /// session (an object larger than a batch carries). A shell process of small puts or gets then costs
    /// ~0.1 s of its own instead of ~0.45 s (docs/BENCHMARKS.md).
    /// </summary>
    private static async Task<int> RunScriptOverLinkAsync(NodeLink link, string nodeHost, int nodePort, Func<Task<IReadOnlyList<string>>> names,
        string? script, Config config, StoreSettings settings)
    {
        ActorSystem? system = null;
        await using (link)
        {
            try
            {
                var client = new StoreClient(link, settings, () =>
                {
                    system = ActorSystem.Create("objectstore-shell", config);
                    return StoreClient.ConnectAsync(system, nodeHost, nodePort, settings, names);
                });
                var commands = new ShellCommands(client, new ConsoleShellOutput());
                return await ConsoleShell.RunAsync(commands.RunReportingAsync, script);
            }
            finally
            {
                if (system is not null) await TerminateAsync(system);
            }
        }
    }

    private static Task TerminateAsync(ActorSystem system) =>
        system.Terminate().WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { });

    private static readonly string[] ShellOverrides =
    [
        "akka.remote.dot-netty.tcp.port = 0",
        // The shell talks to one node over Akka.Remote; it never joins the cluster.
        "akka.actor.provider = remote",
        // Results go to stdout and one-line errors to stderr. Akka's own log lines (association errors
        // when a node dies, DotNetty's "Unable to REMOVE channel" at exit) would only repeat what the
        // shell's error already says, so they are off; OBJECTSTORE_SHELL_LOGLEVEL=DEBUG turns them on, on stderr.
        $"akka.loglevel = {Environment.GetEnvironmentVariable("OBJECTSTORE_SHELL_LOGLEVEL") ?? "OFF"}",
        "akka.stdout-loglevel = OFF",
        "akka.loggers = [\"ObjectStore.Node.StderrLogger, objectstore\"]",
        "akka.remote.log-remote-lifecycle-events = off",
    ];
}
