using System.Text.Json;
using ObjectStore.Actors.Protocol;

namespace ObjectStore.Actors.Shell;

/// <summary>How the shell's `status` shows the cluster's health: a summary line, a row per node, its backlog per peer; or JSON.</summary>
public static class HealthReport
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, WriteIndented = true };

    public static string ToJson(StoreProtocol.ClusterHealth health, DateTimeOffset now)
    {
        var nodes = health.Nodes;
        return JsonSerializer.Serialize(new
        {
            notJoined = health.Notice.Length == 0 ? null : health.Notice,
            copiesQueued = nodes.Sum(n => n.CopiesQueued),
            bytesQueued = nodes.Sum(n => n.BytesQueued),
            secondsLeft = nodes.Max(n => n.SecondsLeft),
            nodes = nodes.Select(n => new
            {
                n.NodeId, n.Address, n.Status, n.Answered, n.Objects, n.Chunks, n.CopiesQueued, n.BytesQueued, n.SecondsLeft,
                backlog = n.Backlog.Select(b => new { nodeId = b.NodeId.Length == 0 ? null : b.NodeId, b.Copies, b.Bytes }),
                n.RepairsRunning, n.CopiesMade, n.BytesRepaired, n.RepairFailures, n.RepairBytesPerSecond, n.RepairRateLimit, n.LastRepairError,
                lastAntiEntropy = Time(n.LastAntiEntropyMs), n.AntiEntropyPasses, n.AntiEntropyDifferences,
                n.Scrubbing, lastScrub = Time(n.LastScrubMs), n.ScrubChecked, n.ScrubLeft, n.CorruptFound, n.Quarantined,
            }),
        }, Json);
    }

    public static IEnumerable<string> Lines(IReadOnlyList<NodeHealth> nodes, DateTimeOffset now)
    {
        var queued = nodes.Sum(n => n.CopiesQueued);
        var silent = nodes.Count(n => !n.Answered);
        var answered = nodes.Count - silent;
        yield return queued == 0
            ? $"every copy in place as far as the {answered} answering node(s) know" + (silent > 0 ? $"; {silent} node(s) did not answer" : "")
            : $"{queued} cop{(queued == 1 ? "y" : "ies")} queued on {nodes.Count(n => n.CopiesQueued > 0)} node(s), {Sizes.Human(nodes.Sum(n => n.BytesQueued))} to repair, " +
              $"about {Duration(nodes.Max(n => n.SecondsLeft) ?? 0)} left" + (silent > 0 ? $"; {silent} node(s) did not answer" : "");
        yield return $"{"node",-18} {"status",-18} {"objects",8} {"chunks",8} {"queued",7} {"to repair",10} {"repaired",10} {"rate",11} {"left",7} {"anti-entropy",13} {"scrub",12} {"corrupt",7}";
        foreach (var n in nodes)
        {
            var id = n.NodeId.Length == 0 ? "?" : n.NodeId;
            if (!n.Answered)
            {
                yield return $"{id,-18} {n.Status,-18} (no answer)";
                continue;
            }
            var scrub = n.Scrubbing ? $"{n.ScrubChecked}/{n.ScrubChecked + n.ScrubLeft}" : Ago(n.LastScrubMs, now);
            yield return $"{id,-18} {n.Status,-18} {n.Objects,8} {n.Chunks,8} {n.CopiesQueued,7} {Sizes.Human(n.BytesQueued),10} {Sizes.Human(n.BytesRepaired),10} " +
                         $"{Sizes.Human((long)n.RepairBytesPerSecond) + "/s",11} {(n.SecondsLeft is { } s ? Duration(s) : "-"),7} {Ago(n.LastAntiEntropyMs, now),13} {scrub,12} {n.CorruptFound,7}";
            foreach (var b in n.Backlog)
                yield return $"    queued for {(b.NodeId.Length == 0 ? "a node yet to join (fewer nodes than the factor)" : b.NodeId)}: {b.Copies} cop{(b.Copies == 1 ? "y" : "ies")}, {Sizes.Human(b.Bytes)}";
            if (n.LastRepairError.Length > 0 && n.CopiesQueued > 0) yield return $"    last repair error: {n.LastRepairError}";
        }
    }

    private static string? Time(long ms) => ms == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(ms).ToString("O");

    private static string Ago(long ms, DateTimeOffset now) => ms == 0 ? "never" : $"{Duration((now - DateTimeOffset.FromUnixTimeMilliseconds(ms)).TotalSeconds)} ago";

    private static string Duration(double seconds) => seconds switch
    {
        < 1 => "<1s",
        < 90 => $"{seconds:0}s",
        < 5400 => $"{seconds / 60:0}m",
        < 172800 => $"{seconds / 3600:0}h",
        _ => $"{seconds / 86400:0}d",
    };
}
