namespace ObjectStore.Node.Tests;

/// <summary>A node re-executes itself with the runtime settings only the environment can give (NodeRuntimeKnobs), in the same process.</summary>
public class NodeRuntimeKnobsTests : IDisposable
{
    private readonly TestFiles _files = new();

    public void Dispose() => _files.Dispose();

    /// <summary>The environment a running process has now (after an execve, the new one).</summary>
    private static Dictionary<string, string> EnvironmentOf(int pid) =>
        File.ReadAllText($"/proc/{pid}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Select(v => v.Split('=', 2)).Where(p => p.Length == 2).GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.Last()[1]);

    [Fact]
    public async Task A_node_runs_with_its_gen0_budget_in_the_process_it_was_started_as_and_keeps_an_operators_own()
    {
        if (!OperatingSystem.IsLinux()) return; // elsewhere the node goes on without re-executing
        Assert.Null(Environment.GetEnvironmentVariable("DOTNET_GCgen0size")); // the test's nodes start without it

        using (var node = await ObjectStoreProcess.NodeProcess.StartAsync(_files.PathOf("a")))
        {
            Assert.Equal("0x4000000", EnvironmentOf(node.Pid).GetValueOrDefault("DOTNET_GCgen0size"));
            // Still the process the test started (its pid, its output): it serves.
            var members = await ObjectStoreProcess.ShellAsync(node.Port, "members");
            Assert.True(members.ExitCode == 0 && ObjectStoreProcess.UpCount(members) == 1, members.Stdout + members.Stderr + node.Log);
        }

        var own = new Dictionary<string, string> { ["DOTNET_GCgen0size"] = "0" };
        using (var node = await ObjectStoreProcess.NodeProcess.StartAsync(_files.PathOf("b"), own))
            Assert.Equal("0", EnvironmentOf(node.Pid).GetValueOrDefault("DOTNET_GCgen0size"));
    }
}
