using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Cluster;
using ObjectStore.Actors.Replication;
using static Akka.Cluster.ClusterEvent;

namespace ObjectStore.Actors.Commands.Palettes;

/// <summary>`cluster`: the membership as this node sees it, its events as they happen, and joining, leaving and downing.</summary>
internal sealed class ClusterPalette : ICommandPalette
{
    public PaletteSpec Spec { get; } = new("cluster", "membership: who is in the cluster, its events, join, leave, down",
    [
        new("show", "cluster show", "every member: address, status, reachability, roles, node id", []),
        new("status", "cluster status", "this node's own status, the leader, counts of members by status", []),
        new("leader", "cluster leader", "the leader's address", []),
        new("tail", "cluster tail", "member and reachability events as they happen, until Ctrl+C", [], Streaming: true),
        new("join", "cluster join ADDRESS", "make this node join the cluster at ADDRESS (akka.tcp://objectstore@HOST:PORT or HOST:PORT)", []),
        new("leave", "cluster leave [ADDRESS]", "make a member (default: this node) leave the cluster; its process then exits. The copies it held are made again by repair; the shell's `leave` hands them over first", []),
        new("down", "cluster down ADDRESS", "mark an unreachable member down (it is removed; do this only to a node that is really gone)", []),
        new("down-unreachable", "cluster down-unreachable", "down every member this node sees unreachable", []),
    ]);

    public async IAsyncEnumerable<CommandOutput> RunAsync(string command, CommandArgs args, CommandContext context,
        [EnumeratorCancellation] CancellationToken cancel)
    {
        if (((ExtendedActorSystem)context.System).Provider is not ClusterActorRefProvider)
        {
            yield return CommandOutput.Failed("this node does not run Akka.Cluster");
            yield break;
        }
        var cluster = Cluster.Get(context.System);
        switch (command, args.Positional.Count)
        {
            case ("show", 0):
                yield return CommandOutput.Of(Members(cluster));
                break;
            case ("status", 0):
                yield return CommandOutput.Of(Status(cluster));
                break;
            case ("leader", 0):
                yield return CommandOutput.Of(cluster.State.Leader?.ToString() ?? "(no leader: this node is not a member yet)");
                break;
            case ("tail", 0):
                await foreach (var line in TailAsync(cluster, cancel)) yield return CommandOutput.Of(line);
                break;
            case ("join", 1):
                if (!TryAddress(args.Positional[0], context, out var joinAt, out var joinError)) yield return CommandOutput.Failed(joinError);
                else
                {
                    cluster.Join(joinAt);
                    yield return CommandOutput.Of($"joining {joinAt}");
                }
                break;
            case ("leave", <= 1):
                var leaving = cluster.SelfAddress;
                if (args.Positional.Count == 1 && !TryMember(cluster, args.Positional[0], context, out leaving, out var leaveError))
                {
                    yield return CommandOutput.Failed(leaveError);
                    break;
                }
                cluster.Leave(leaving);
                yield return CommandOutput.Of($"{leaving} is leaving the cluster");
                break;
            case ("down", 1):
                if (!TryMember(cluster, args.Positional[0], context, out var down, out var downError)) yield return CommandOutput.Failed(downError);
                else
                {
                    cluster.Down(down);
                    yield return CommandOutput.Of($"{down} marked down");
                }
                break;
            case ("down-unreachable", 0):
                var unreachable = cluster.State.Unreachable.Select(m => m.Address).ToList();
                foreach (var address in unreachable) cluster.Down(address);
                yield return CommandOutput.Of(unreachable.Count == 0 ? "no member is unreachable" : $"marked down: {string.Join(", ", unreachable)}");
                break;
            default:
                yield return CommandOutput.Failed($"wrong arguments; usage: {Spec.Commands.First(c => c.Name == command).Usage}");
                break;
        }
    }

    private static CommandTable Members(Cluster cluster)
    {
        var state = cluster.State;
        var unreachable = state.Unreachable.Select(m => m.Address).ToHashSet();
        var rows = state.Members.OrderBy(m => m.Address.ToString(), StringComparer.Ordinal).Select(m => (IReadOnlyList<string>)
        [
            m.Address.ToString(), m.Status.ToString(), unreachable.Contains(m.Address) ? "unreachable" : "reachable",
            string.Join(",", m.Roles.Where(r => !r.StartsWith(ClusterRing.NodeRolePrefix, StringComparison.Ordinal)).Order()),
            ClusterRing.NodeIdOf(m.Roles) ?? "", m.Address.Equals(state.Leader) ? "leader" : "",
        ]).ToList();
        return new CommandTable(["address", "status", "reachability", "roles", "node", "leader"], rows);
    }

    private static CommandTable Status(Cluster cluster)
    {
        var state = cluster.State;
        var self = state.Members.FirstOrDefault(m => m.UniqueAddress.Equals(cluster.SelfUniqueAddress));
        var counts = state.Members.GroupBy(m => m.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key}");
        return new CommandTable(["field", "value"],
        [
            ["self", cluster.SelfAddress.ToString()],
            ["status", self?.Status.ToString() ?? "not a member"],
            ["leader", state.Leader?.ToString() ?? ""],
            ["members", string.Join(", ", counts)],
            ["unreachable", state.Unreachable.Count.ToString()],
        ]);
    }

    /// <summary>Member and reachability events from now on, each a line, through a subscriber actor of this call's own.</summary>
    private static async IAsyncEnumerable<string> TailAsync(Cluster cluster, [EnumeratorCancellation] CancellationToken cancel)
    {
        var channel = Channel.CreateBounded<string>(new BoundedChannelOptions(1000) { FullMode = BoundedChannelFullMode.DropOldest });
        var subscriber = cluster.System.ActorOf(ActorProps.Of(() => new TailSubscriber(channel.Writer)));
        try
        {
            cluster.Subscribe(subscriber, InitialStateAsEvents, typeof(IMemberEvent), typeof(IReachabilityEvent), typeof(LeaderChanged));
            await foreach (var line in channel.Reader.ReadAllAsync(cancel)) yield return line;
        }
        finally
        {
            cluster.Unsubscribe(subscriber);
            cluster.System.Stop(subscriber);
        }
    }

    private sealed class TailSubscriber : ReceiveActor
    {
        public TailSubscriber(ChannelWriter<string> lines) =>
            ReceiveAny(e =>
            {
                var line = e switch
                {
                    IMemberEvent m => $"member {EventName(m)} {m.Member.Address} {ClusterRing.NodeIdOf(m.Member.Roles)}",
                    UnreachableMember u => $"unreachable {u.Member.Address} {ClusterRing.NodeIdOf(u.Member.Roles)}",
                    ReachableMember r => $"reachable again {r.Member.Address} {ClusterRing.NodeIdOf(r.Member.Roles)}",
                    LeaderChanged l => $"leader {l.Leader?.ToString() ?? "(none)"}",
                    _ => null,
                };
                if (line is not null) lines.TryWrite($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {line.TrimEnd()}");
            });
    }

    private static string EventName(IMemberEvent e) => e switch
    {
        MemberJoined => "joined",
        MemberUp => "up",
        MemberWeaklyUp => "weakly up",
        MemberLeft => "leaving",
        MemberExited => "exited",
        MemberDowned => "downed",
        MemberRemoved => "removed",
        _ => e.GetType().Name,
    };

    private static bool TryAddress(string text, CommandContext context, out Address address, out string error)
    {
        error = "";
        if (Address.TryParse(text, out address!) && address.Host is not null) return true;
        var colon = text.LastIndexOf(':');
        if (colon > 0 && int.TryParse(text[(colon + 1)..], out var port) && port is > 0 and <= 65535)
        {
            address = new Address("akka.tcp", context.System.Name, text[..colon], port);
            return true;
        }
        error = $"'{text}' is not an address: give akka.tcp://{context.System.Name}@HOST:PORT or HOST:PORT";
        return false;
    }

    private static bool TryMember(Cluster cluster, string text, CommandContext context, out Address address, out string error)
    {
        if (!TryAddress(text, context, out address, out error)) return false;
        var wanted = address;
        if (cluster.State.Members.Any(m => m.Address.Equals(wanted))) return true;
        error = $"{address} is not a member; 'cluster show' lists them";
        return false;
    }
}
