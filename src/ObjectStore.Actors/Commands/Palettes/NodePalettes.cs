using System.Reflection;
using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.Event;

namespace ObjectStore.Actors.Commands.Palettes;

/// <summary>`actor`: the node's actor tree, sorted by path so two calls compare line by line.</summary>
internal sealed class ActorPalette : ICommandPalette
{
    public PaletteSpec Spec { get; } = new("actor", "the node's actors",
    [
        new("hierarchy", "actor hierarchy [-d DEPTH] [-s PATH]", "the actors under PATH (default /user), DEPTH levels deep (default all), sorted", ["-d", "-s"]),
    ]);

    public IReadOnlySet<string> ValuedSwitches { get; } = new HashSet<string> { "-d", "-s" };

    public async IAsyncEnumerable<CommandOutput> RunAsync(string command, CommandArgs args, CommandContext context,
        [EnumeratorCancellation] CancellationToken cancel)
    {
        await Task.CompletedTask;
        var depth = args.Int("-d", int.MaxValue);
        var start = args.Switches.GetValueOrDefault("-s") ?? "/user";
        var root = ((ExtendedActorSystem)context.System).Provider.ResolveActorRef(((ExtendedActorSystem)context.System).Provider.RootPath / start.Trim('/').Split('/'));
        if (root is not ActorRefWithCell cell || root.IsNobody())
        {
            yield return CommandOutput.Failed($"no actor at {start}");
            yield break;
        }
        var lines = new List<string>();
        Walk(cell, 0, depth, lines);
        yield return CommandOutput.Of(string.Join(Environment.NewLine, lines));
    }

    private static void Walk(ActorRefWithCell actor, int level, int depth, List<string> lines)
    {
        lines.Add(new string(' ', level * 2) + actor.Path.ToStringWithoutAddress());
        if (level >= depth) return;
        foreach (var child in actor.Children.OfType<ActorRefWithCell>().OrderBy(c => c.Path.ToStringWithoutAddress(), StringComparer.Ordinal))
            Walk(child, level + 1, depth, lines);
    }
}

/// <summary>`log`: the node's recent log, a live feed of it, and its level.</summary>
internal sealed class LogPalette : ICommandPalette
{
    public PaletteSpec Spec { get; } = new("log", "the node's log",
    [
        new("peek", "log peek [-n N]", $"the last N lines (default 50, at most {RecentLog.Capacity})", ["-n"]),
        new("tail", "log tail", "new lines as they are logged, until Ctrl+C", [], Streaming: true),
        new("level", "log level LEVEL", "log from LEVEL up: debug, info, warning, error (until the node restarts)", []),
    ]);

    public IReadOnlySet<string> ValuedSwitches { get; } = new HashSet<string> { "-n" };

    public async IAsyncEnumerable<CommandOutput> RunAsync(string command, CommandArgs args, CommandContext context,
        [EnumeratorCancellation] CancellationToken cancel)
    {
        switch (command)
        {
            case "peek":
                yield return CommandOutput.Of(string.Join(Environment.NewLine, context.Log.Last(Math.Min(args.Int("-n", 50), RecentLog.Capacity))));
                break;
            case "tail":
                await foreach (var line in context.Log.TailAsync(cancel)) yield return CommandOutput.Of(line);
                break;
            case "level" when args.Positional.Count == 1:
                if (!Enum.TryParse<LogLevel>(args.Positional[0] + "Level", ignoreCase: true, out var level))
                {
                    yield return CommandOutput.Failed($"unknown level '{args.Positional[0]}'; give debug, info, warning or error");
                    break;
                }
                context.System.EventStream.SetLogLevel(level);
                yield return CommandOutput.Of($"logging from {args.Positional[0].ToLowerInvariant()} up");
                break;
            default:
                yield return CommandOutput.Failed($"wrong arguments; usage: {Spec.Commands.First(c => c.Name == command).Usage}");
                break;
        }
    }
}

/// <summary>`node info`: what runs here, where, since when, on which data, with which settings.</summary>
internal sealed class NodeInfoPalette : ICommandPalette
{
    public PaletteSpec Spec { get; } = new("node", "this node",
    [
        new("info", "node info", "version, uptime, node id, addresses and ports, data directory, disk free, the configuration in force", []),
    ]);

    public async IAsyncEnumerable<CommandOutput> RunAsync(string command, CommandArgs args, CommandContext context,
        [EnumeratorCancellation] CancellationToken cancel)
    {
        await Task.CompletedTask;
        var version = typeof(StoreNode).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        var data = Path.GetFullPath(context.Settings.DataDirectory);
        var drive = new DriveInfo(data);
        var uptime = DateTimeOffset.UtcNow - context.Started;
        yield return CommandOutput.Of(new CommandTable(["field", "value"],
        [
            ["version", version],
            ["uptime", $"{(int)uptime.TotalHours}h{uptime.Minutes:00}m{uptime.Seconds:00}s"],
            ["node", context.Node.NodeId],
            ["remoting", context.RemotingAddress],
            ["data port", context.Node.DataPlane is { } plane ? $"{plane.Host}:{plane.Port}" : "off"],
            ["command host", context.CommandAddress],
            ["data directory", data],
            ["disk free", $"{Shell.Sizes.Human(drive.AvailableFreeSpace)} of {Shell.Sizes.Human(drive.TotalSize)}"],
            ["replication", $"factor {context.Settings.Replication.Factor}, write quorum {context.Settings.Replication.WriteQuorum}"],
        ]));
        yield return CommandOutput.Of("configuration in force (objectstore):" + Environment.NewLine + context.Config.GetConfig("objectstore").Root);
    }
}
