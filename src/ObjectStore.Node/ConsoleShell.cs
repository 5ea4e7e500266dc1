using Akka.Actor;
using ObjectStore.Actors.Shell;

namespace ObjectStore.Node;

/// <summary>
/// Feeds command lines to the shell (its actor; a script over a node's local link runs them without one, see
/// Commands.RunShellAsync): interactively on a terminal (prompt, history), or as a script from -c or from
/// stdin, stopping at the first error with exit code 1. Ctrl+C cancels the running command (on the node
/// too); a script then ends with exit code 130, the prompt comes back; at the prompt Ctrl+C clears the
/// line and Ctrl+D leaves. A second Ctrl+C while a cancel is under way ends the shell at once.
/// </summary>
public static class ConsoleShell
{
    /// <summary>The exit code of a script stopped by Ctrl+C (128 + SIGINT, as shells report it).</summary>
    private const int Interrupted = 130;

    private static CancellationTokenSource? _running;

    /// <summary>Runs one command line to its end (an error printed, or not) and says how it went.</summary>
    public delegate Task<ShellOutcome> Execute(string command, CancellationToken cancel);

    /// <summary>Each command is one <see cref="ShellActor.Execute"/> to the shell actor.</summary>
    public static Execute Through(IActorRef shell) => (command, cancel) =>
    {
        var done = new TaskCompletionSource<ShellOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        shell.Tell(new ShellActor.Execute(command, done, cancel));
        return done.Task;
    };

    public static async Task<int> RunAsync(Execute execute, string? script)
    {
        Console.CancelKeyPress += OnCancelKeyPress;
        ConsoleShellOutput.BufferStdoutWhenRedirected();
        try
        {
            if (script is not null) return await RunScriptAsync(execute, ShellLine.SplitCommands(script));
            if (Console.IsInputRedirected) return await RunScriptAsync(execute, ReadStdin());
            return await RunInteractiveAsync(execute);
        }
        finally
        {
            Console.CancelKeyPress -= OnCancelKeyPress;
            ConsoleShellOutput.Flush();
        }
    }

    private static void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
    {
        var running = _running;
        if (running is null || running.IsCancellationRequested) return; // nothing to cancel, or asked twice: the process ends
        e.Cancel = true;
        Console.Error.WriteLine("^C cancelling (Ctrl+C again to quit at once)");
        running.Cancel();
    }

    private static IEnumerable<string> ReadStdin()
    {
        string? line;
        while ((line = Console.In.ReadLine()) is not null)
            foreach (var command in ShellLine.SplitCommands(line))
                yield return command;
    }

    private static async Task<int> RunScriptAsync(Execute execute, IEnumerable<string> commands)
    {
        foreach (var command in commands)
        {
            var (outcome, cancelled) = await ExecuteAsync(execute, command);
            if (cancelled) return Interrupted;
            switch (outcome)
            {
                case ShellOutcome.Failed: return 1;
                case ShellOutcome.Exit: return 0;
            }
        }
        return 0;
    }

    private static async Task<int> RunInteractiveAsync(Execute execute)
    {
        Console.WriteLine("objectstore shell — type 'help' for commands, 'exit' or Ctrl+D to leave.");
        var editor = new LineEditor();
        while (ReadLine(editor) is { } line)
        {
            foreach (var command in ShellLine.SplitCommands(line))
            {
                var (outcome, cancelled) = await ExecuteAsync(execute, command);
                if (outcome == ShellOutcome.Exit) return 0;
                if (cancelled) break; // the rest of the line is not run
            }
        }
        return 0;
    }

    /// <summary>At the prompt Ctrl+C is a key (it clears the line); while a command runs it is a signal that cancels it.</summary>
    private static string? ReadLine(LineEditor editor)
    {
        Console.TreatControlCAsInput = true;
        try
        {
            return editor.ReadLine("objectstore> ");
        }
        finally
        {
            Console.TreatControlCAsInput = false;
        }
    }

    private static async Task<(ShellOutcome Outcome, bool Cancelled)> ExecuteAsync(Execute execute, string command)
    {
        // The shell completes this for every command, success or not; each command is bounded by
        // its own timeouts (request timeout, transfer idle timeout), so this wait is bounded too.
        using var running = new CancellationTokenSource();
        _running = running;
        try
        {
            var outcome = await execute(command, running.Token);
            return (outcome, running.IsCancellationRequested);
        }
        finally
        {
            _running = null;
            ConsoleShellOutput.Flush();
        }
    }
}
