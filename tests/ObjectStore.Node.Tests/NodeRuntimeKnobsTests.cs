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
    public async Task A_node_runs_with_its_runtime_knobs_in_the_process_it_was_started_as_and_keeps_an_operators_own()
    {
        if (!OperatingSystem.IsLinux()) return; // elsewhere the node goes on without re-executing
        Assert.Null(Environment.GetEnvironmentVariable("DOTNET_GCgen0size")); // the test's nodes start without them
        Assert.Null(Environment.GetEnvironmentVariable("DOTNET_TC_CallCountingDelayMs"));

        using (var node = await ObjectStoreProcess.NodeProcess.StartAsync(_files.PathOf("a")))
        {
            var environment = EnvironmentOf(node.Pid);
            Assert.Equal("0x4000000", environment.GetValueOrDefault("DOTNET_GCgen0size"));
            Assert.Equal("100", environment.GetValueOrDefault("DOTNET_TC_CallCountingDelayMs"));
            // Still the process the test started (its pid, its output): it serves.
            var members = await ObjectStoreProcess.ShellAsync(node.Port, "members");
            Assert.True(members.ExitCode == 0 && ObjectStoreProcess.UpCount(members) == 1, members.Stdout + members.Stderr + node.Log);
        }

        // An operator's own value stays; the knob they left out is still added.
        var own = new Dictionary<string, string> { ["DOTNET_GCgen0size"] = "0" };
        using (var node = await ObjectStoreProcess.NodeProcess.StartAsync(_files.PathOf("b"), own))
        {
            var environment = EnvironmentOf(node.Pid);
            Assert.Equal("0", environment.GetValueOrDefault("DOTNET_GCgen0size"));
            Assert.Equal("100", environment.GetValueOrDefault("DOTNET_TC_CallCountingDelayMs"));
        }
    }

    [Fact]
    public void The_shells_runtimeconfig_waits_a_second_before_recompiling_hot_methods()
    {
        // The shell takes it from the runtimeconfig that ships beside the executable; the node's environment wins over it.
        var runtimeConfig = Path.ChangeExtension(ObjectStoreProcess.Dll, ".runtimeconfig.json");
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(runtimeConfig));
        var properties = json.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
        Assert.Equal(1000, properties.GetProperty("System.Runtime.TieredCompilation.CallCountingDelayMs").GetInt32());
    }
}
