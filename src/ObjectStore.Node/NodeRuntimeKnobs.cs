using System.Runtime.InteropServices;

namespace ObjectStore.Node;

/// <summary>
/// Runtime settings a node wants and a shell does not, where the runtime takes them only from the environment,
/// before <c>Main</c>: the process re-executes itself once with them (Linux <c>execve</c> of its own executable
/// and arguments, so the pid, the open standard streams and the working directory stay; on other systems it goes
/// on without them).
/// </summary>
/// <remarks>
/// <para>A 64 MiB gen0 budget (the runtime's default on two cores is a few MiB): a node's young collections each
/// promote the chunks and messages in flight, and with the default budget they came every ~100 ms during small
/// puts. Measured: 1.16–1.22× the put -r rate of 4 KiB objects, 11 of 12 rounds faster, for ~50 MB more RSS
/// (docs/BENCHMARKS.md, tenth step). The runtimeconfig has no such setting (System.GC.Gen0Size there is ignored),
/// and a shell, which shares the runtimeconfig, is better off without it.</para>
/// <para>Tiered compilation's call counting after the runtime's default 100 ms without new methods: the
/// runtimeconfig's 1 s is for the shell (ObjectStore.Node.csproj), and the environment's value wins over it.</para>
/// <para>An operator who sets one of these variables keeps their value (for the gen0 budget, 0 is the runtime's
/// default); the node re-executes only when one of them is missing.</para>
/// </remarks>
internal static partial class NodeRuntimeKnobs
{
    public const string Gen0SizeVariable = "DOTNET_GCgen0size";
    public const string Gen0Size = "0x4000000";
    public const string CallCountingDelayVariable = "DOTNET_TC_CallCountingDelayMs";
    public const string CallCountingDelay = "100";

    /// <summary>Each variable with the value a node runs with unless the operator set it.</summary>
    public static readonly IReadOnlyList<(string Variable, string Value)> Knobs =
        [(Gen0SizeVariable, Gen0Size), (CallCountingDelayVariable, CallCountingDelay)];

    [LibraryImport("libc", EntryPoint = "execve", SetLastError = true)]
    private static unsafe partial int ExecVe(IntPtr path, IntPtr* argv, IntPtr* envp);

    /// <summary>Returns only when the process goes on as it is: off Linux, the knobs already set, or the re-execution refused.</summary>
    public static void ReexecuteWithNodeKnobs()
    {
        var missing = Knobs.Where(k => Environment.GetEnvironmentVariable(k.Variable) is null).ToList();
        if (!OperatingSystem.IsLinux() || missing.Count == 0) return;
        string[] arguments;
        try
        {
            // The command line as the process was started (the apphost, or dotnet and the dll), NUL-separated.
            var cmdline = File.ReadAllText("/proc/self/cmdline");
            arguments = (cmdline.EndsWith('\0') ? cmdline[..^1] : cmdline).Split('\0'); // an empty last argument stays
        }
        catch (IOException)
        {
            return;
        }
        var environment = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Select(e => $"{e.Key}={e.Value}").Concat(missing.Select(k => $"{k.Variable}={k.Value}")).ToArray();
        ForgetDiagnosticsSocket();
        Execute("/proc/self/exe", arguments, environment);
    }

    /// <summary>
    /// The runtime's diagnostics socket (what dotnet-counters and dotnet-trace attach to) is named by pid and start
    /// time, both of which an execve keeps; this runtime never removes it, so the next one could not bind the name.
    /// </summary>
    private static void ForgetDiagnosticsSocket()
    {
        try
        {
            foreach (var socket in Directory.EnumerateFiles(Path.GetTempPath(), $"dotnet-diagnostic-{Environment.ProcessId}-*-socket"))
                File.Delete(socket);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    private static unsafe void Execute(string path, string[] arguments, string[] environment)
    {
        var owned = new List<IntPtr>();
        IntPtr Utf8(string s)
        {
            var p = Marshal.StringToCoTaskMemUTF8(s);
            owned.Add(p);
            return p;
        }
        try
        {
            var argv = arguments.Select(Utf8).Append(IntPtr.Zero).ToArray();
            var envp = environment.Select(Utf8).Append(IntPtr.Zero).ToArray();
            var file = Utf8(path);
            fixed (IntPtr* a = argv)
            fixed (IntPtr* e = envp)
                ExecVe(file, a, e); // returns only when it failed: go on without the knobs
        }
        finally
        {
            foreach (var p in owned) Marshal.FreeCoTaskMem(p);
        }
    }
}
