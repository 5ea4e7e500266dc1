namespace ObjectStore.Actors.Shell;

/// <summary>The shell's commands about the cluster itself: who is in it, how healthy it is, leaving it.</summary>
public sealed partial class ShellCommands
{
    private async Task<ShellOutcome> MembersAsync()
    {
        var listing = await client.MembersAsync();
        if (listing.Notice.Length > 0) output.Line($"warning: {listing.Notice}");
        output.Line($"{"address",-40} {"status",-12} {"roles",-10} {"node",-18} {"objects",8} {"chunks",8}");
        foreach (var m in listing.Members)
        {
            var node = m.NodeId.Length == 0 ? "(no answer)" : m.NodeId;
            var objects = m.Objects < 0 ? "?" : m.Objects.ToString();
            var chunks = m.Chunks < 0 ? "?" : m.Chunks.ToString();
            output.Line($"{m.Address,-40} {m.Status,-12} {string.Join(",", m.Roles),-10} {node,-18} {objects,8} {chunks,8}");
        }
        return ShellOutcome.Ok;
    }

    private async Task<ShellOutcome> LeaveAsync()
    {
        var accepted = await client.LeaveAsync();
        output.Line($"{accepted.NodeId} is handing its {accepted.Objects} object version(s) over to the other nodes; " +
                    "it leaves the cluster once each has its copies there (follow it with 'status')");
        return ShellOutcome.Ok;
    }

    private async Task<ShellOutcome> StatusAsync(bool json)
    {
        var health = await client.HealthAsync();
        if (json) output.Line(HealthReport.ToJson(health, DateTimeOffset.UtcNow));
        else
        {
            if (health.Notice.Length > 0) output.Line($"warning: {health.Notice}");
            foreach (var line in HealthReport.Lines(health.Nodes, DateTimeOffset.UtcNow)) output.Line(line);
        }
        return ShellOutcome.Ok;
    }
}
