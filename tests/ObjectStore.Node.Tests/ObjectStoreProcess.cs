using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace ObjectStore.Node.Tests;

/// <summary>
/// Runs the real <c>objectstore</c> executable (built beside these tests). Every start has a deadline,
/// and a node process is killed on dispose, so a failing test leaves nothing running.
/// </summary>
public static partial class ObjectStoreProcess
{
    /// <summary>The build under test; OBJECTSTORE_TEST_DLL points the tests at another, e.g. a ReadyToRun publish (the form that ships).</summary>
    public static string Dll => Environment.GetEnvironmentVariable("OBJECTSTORE_TEST_DLL") ?? Path.Combine(AppContext.BaseDirectory, "objectstore.dll");

    /// <summary>The node's failpoint (see CrashFailpoint): kill itself after writing this many chunk files.</summary>
    public const string KillAfterChunkWrites = "OBJECTSTORE_FAILPOINT_KILL_AFTER_CHUNK_WRITES";

    /// <summary>The node's failpoint (see CrashFailpoint): kill itself when a put is about to commit its object.</summary>
    public const string KillBeforeIndexCommit = "OBJECTSTORE_FAILPOINT_KILL_BEFORE_INDEX_COMMIT";

    public static ProcessStartInfo StartInfo(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Dll);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        return info;
    }

    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>
    /// A free loopback port, for tests that must name their nodes' ports up front (seeds, a node restarted on its
    /// port), never the same one twice in this run. Picked below the kernel's ephemeral range: a port from that
    /// range (what binding to port 0 gives) can be taken by any process before the node binds it — the source
    /// port of an outgoing connection, a shell's own port — which failed a test in one .ci/run ("already in use").
    /// Below it only ports a test names are used, and this process names each once.
    /// </summary>
    public static int FreePort() => ConsecutiveFreePorts(1);

    /// <summary><paramref name="count"/> free ports in a row (as `local --port P` uses P, P+1, ...), the first returned; see <see cref="FreePort"/>.</summary>
    public static int ConsecutiveFreePorts(int count)
    {
        lock (HandedOut)
        {
            var (low, high) = NamedPortRange(count);
            for (var attempt = 0; attempt < 1_000; attempt++)
            {
                var first = Random.Shared.Next(low, high);
                var ports = Enumerable.Range(first, count).ToArray();
                if (ports.Any(HandedOut.Contains) || !ports.All(IsFree)) continue;
                HandedOut.UnionWith(ports);
                return first;
            }
            throw new InvalidOperationException($"no {count} free ports in a row found in {low}..{high + count - 2}");
        }
    }

    private static readonly HashSet<int> HandedOut = [];

    /// <summary>
    /// Where a run of <paramref name="count"/> named ports may start: from 20000 up to the start of the ephemeral
    /// range (32768 by default on Linux), or from 1025 if that range starts lower.
    /// </summary>
    private static (int Low, int High) NamedPortRange(int count)
    {
        var ephemeralStart = 32_768;
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            ephemeralStart = int.Parse(range[0]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            // Not Linux, or no procfs: keep the default.
        }
        var low = ephemeralStart - 20_000 >= 1_000 ? 20_000 : 1_025;
        var high = ephemeralStart - count + 1;
        if (high - low < 100) throw new InvalidOperationException($"the ephemeral port range starts at {ephemeralStart}: too few ports below it for tests");
        return (low, high);
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    /// <summary>Runs a shell script against a node every half second until <paramref name="done"/> holds or the time is up; returns the last result.</summary>
    public static Task<Result> UntilAsync(int port, string script, Func<Result, bool> done, int seconds = 90) =>
        UntilAsync(() => ShellAsync(port, script), done, seconds);

    /// <summary>Runs <paramref name="run"/> every half second until <paramref name="done"/> holds or the time is up; returns the last result.</summary>
    public static async Task<Result> UntilAsync(Func<Task<Result>> run, Func<Result, bool> done, int seconds = 90)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var result = await run();
            if (done(result) || DateTime.UtcNow > deadline) return result;
            await Task.Delay(500);
        }
    }

    /// <summary>
    /// Members listed Up by `members`: rows whose status column reads Up. Not any line with " Up " in it —
    /// a joining node's listing opens with "warning: this node is Joining and not yet Up", which counted
    /// as a member once and let a test go on before the cluster had formed.
    /// </summary>
    public static int UpCount(Result members) => members.Stdout.Split('\n')
        .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        .Count(row => row.Length >= 2 && row[0].Contains("://", StringComparison.Ordinal) && row[1] == "Up");

    /// <summary>Runs <c>objectstore shell -c SCRIPT</c> against a node and waits for it to exit.</summary>
    public static Task<Result> ShellAsync(int port, string script, TimeSpan? timeout = null) =>
        RunAsync(timeout ?? TimeSpan.FromMinutes(2), null, "shell", "--node", $"127.0.0.1:{port}", "-c", script);

    /// <summary>Runs <c>objectstore shell</c> with commands on stdin, as a script would.</summary>
    public static Task<Result> ShellStdinAsync(int port, string stdin, TimeSpan? timeout = null) =>
        RunAsync(timeout ?? TimeSpan.FromMinutes(2), stdin, "shell", "--node", $"127.0.0.1:{port}");

    public static Task<Result> RunAsync(TimeSpan timeout, string? stdin, params string[] args) => RunAsync(timeout, stdin, null, args);

    /// <summary>Runs <c>objectstore shell -c SCRIPT</c> with extra environment variables.</summary>
    public static Task<Result> ShellAsync(int port, string script, IReadOnlyDictionary<string, string> environment) =>
        RunAsync(TimeSpan.FromMinutes(2), null, null, environment, "shell", "--node", $"127.0.0.1:{port}", "-c", script);

    /// <summary>Runs the executable with extra environment variables.</summary>
    public static Task<Result> RunWithAsync(IReadOnlyDictionary<string, string> environment, TimeSpan timeout, params string[] args) =>
        RunAsync(timeout, null, null, environment, args);

    /// <summary>Runs the executable; <paramref name="onLine"/> sees each stdout line as it is printed.</summary>
    public static Task<Result> RunAsync(TimeSpan timeout, string? stdin, Action<string>? onLine, params string[] args) =>
        RunAsync(timeout, stdin, onLine, new Dictionary<string, string>(), args);

    private static async Task<Result> RunAsync(TimeSpan timeout, string? stdin, Action<string>? onLine, IReadOnlyDictionary<string, string> environment,
        params string[] args)
    {
        var info = StartInfo(args);
        foreach (var (name, value) in environment) info.Environment[name] = value;
        using var process = Process.Start(info)!;
        var stdout = ReadLinesAsync(process.StandardOutput, onLine);
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null) await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"objectstore {string.Join(' ', args)} did not finish within {timeout}; stderr: {await stderr}");
        }
        return new Result(process.ExitCode, await stdout, await stderr);
    }

    private static async Task<string> ReadLinesAsync(StreamReader reader, Action<string>? onLine)
    {
        var all = new StringBuilder();
        while (await reader.ReadLineAsync() is { } line)
        {
            all.AppendLine(line);
            onLine?.Invoke(line);
        }
        return all.ToString();
    }

    [GeneratedRegex(@"listening on [^:\s]+:(\d+)")]
    private static partial Regex ListeningLine();

    /// <summary>A running <c>objectstore node</c> process.</summary>
    public sealed class NodeProcess : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _log = new();

        private NodeProcess(Process process) => _process = process;

        public int Port { get; private set; }
        public int Pid => _process.Id;
        public string Log
        {
            get { lock (_log) return _log.ToString(); }
        }

        public static Task<NodeProcess> StartAsync(string dataDirectory, int port = 0, params string[] seeds) =>
            StartAsync(dataDirectory, new Dictionary<string, string>(), port, seeds);

        /// <param name="environment">Extra environment variables for the node (e.g. a failpoint).</param>
        public static Task<NodeProcess> StartAsync(string dataDirectory, IReadOnlyDictionary<string, string> environment, int port = 0, params string[] seeds) =>
            StartAsync(dataDirectory, environment, null, port, seeds);

        /// <param name="configFile">A HOCON file layered over the node's configuration (--config).</param>
        /// <param name="seeds">None: a single node (--factor 1); the node's own address first: the seed of a new cluster.</param>
        public static Task<NodeProcess> StartAsync(string dataDirectory, IReadOnlyDictionary<string, string> environment, string? configFile,
            int port = 0, params string[] seeds) =>
            StartAsync(dataDirectory, environment, configFile, port, 0, seeds);

        /// <param name="cmdPort">The command host's port; 0 (the tests' default): none, so that nodes in parallel tests do not compete for 9110.</param>
        public static Task<NodeProcess> StartAsync(string dataDirectory, IReadOnlyDictionary<string, string> environment, string? configFile,
            int port, int cmdPort, params string[] seeds) =>
            StartAsync(dataDirectory, environment, configFile, port, cmdPort, [], seeds);

        /// <param name="options">More command-line options for the node (e.g. --gateway).</param>
        public static async Task<NodeProcess> StartAsync(string dataDirectory, IReadOnlyDictionary<string, string> environment, string? configFile,
            int port, int cmdPort, string[] options, params string[] seeds)
        {
            var args = new List<string> { "node", "--data", dataDirectory, "--port", port.ToString(), "--cmd-port", cmdPort.ToString() };
            args.AddRange(options);
            if (configFile is not null) args.AddRange(["--config", configFile]);
            foreach (var seed in seeds) args.AddRange(["--seed", seed]);
            // A node with no seeds is a store of one here; a test that grows a cluster from it names the node as its own seed.
            if (seeds.Length == 0) args.AddRange(["--factor", "1"]);
            var info = StartInfo([.. args]);
            foreach (var (name, value) in environment) info.Environment[name] = value;
            var process = Process.Start(info)!;
            var node = new NodeProcess(process);
            var listening = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                lock (node._log) node._log.AppendLine(e.Data);
                var match = ListeningLine().Match(e.Data);
                if (match.Success) listening.TrySetResult(int.Parse(match.Groups[1].Value));
            };
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                lock (node._log) node._log.AppendLine(e.Data);
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                // A node restarted after a crash first waits (up to 90 s) for the cluster to drop its old incarnation.
                // A node that exits first (its port taken, a bad option) ends the wait at once.
                var exited = process.WaitForExitAsync();
                var first = await Task.WhenAny(listening.Task, exited).WaitAsync(TimeSpan.FromSeconds(150));
                if (first != listening.Task && !listening.Task.IsCompleted)
                {
                    var code = process.ExitCode;
                    node.Dispose();
                    throw new InvalidOperationException($"the node exited (code {code}) before it reported its port; log:\n{node.Log}");
                }
                node.Port = await listening.Task;
            }
            catch (TimeoutException)
            {
                node.Dispose();
                throw new TimeoutException($"the node did not report its port within 150s; log:\n{node.Log}");
            }
            return node;
        }

        /// <summary>
        /// Starts the first node (the seed), then the others at once: one after another, each start's JIT waits for
        /// the one before; all at once, a member that asks a seed not yet up retries its join only 10 s later. If any
        /// fails to start, the ones that did are stopped before the failure is thrown, so no process outlives the test.
        /// </summary>
        /// <param name="start">Starts node <c>i</c> of <paramref name="count"/>; node 0 goes first, alone (the seed, when it is one of them).</param>
        public static async Task<NodeProcess[]> StartAllAsync(int count, Func<int, Task<NodeProcess>> start)
        {
            var tasks = new List<Task<NodeProcess>> { start(0) };
            try
            {
                await tasks[0];
                tasks.AddRange(Enumerable.Range(1, count - 1).Select(start));
                return await Task.WhenAll(tasks);
            }
            catch
            {
                await Task.WhenAll(tasks.Select(t => t.ContinueWith(_ => { }))); // every start has ended, one way or the other
                foreach (var task in tasks)
                    if (task.IsCompletedSuccessfully) task.Result.Dispose();
                throw;
            }
        }

        /// <summary>True when the process has ended (by itself) within <paramref name="timeout"/>.</summary>
        public bool WaitForExit(TimeSpan timeout) => _process.WaitForExit(timeout);

        /// <summary>Sends a signal (STOP freezes the process, CONT thaws it, TERM stops it cleanly, as Ctrl+C does).</summary>
        public void Signal(string signal)
        {
            if (_process.HasExited) return;
            using var kill = Process.Start(new ProcessStartInfo("kill", $"-{signal} {_process.Id}") { UseShellExecute = false })!;
            kill.WaitForExit(10_000);
        }

        /// <summary>kill -9: no shutdown hooks, no flushing.</summary>
        public void KillHard()
        {
            if (_process.HasExited) return;
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        public void Dispose()
        {
            Signal("CONT"); // a frozen process cannot be waited for
            KillHard();
            _process.Dispose();
        }
    }
}
