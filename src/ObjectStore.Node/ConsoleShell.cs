using Akka.Actor;
using ObjectStore.Actors.Shell;

namespace ObjectStore.Node;

/// <summary>
/// Feeds command lines to the shell actor: interactively on a terminal (prompt, history), or as a
/// script from -c or from stdin, stopping at the first error with exit code 1.
/// </summary>
public static class ConsoleShell
{
    public static async Task<int> RunAsync(IActorRef shell, string? script)
    {
        if (script is not null) return await RunScriptAsync(shell, ShellLine.SplitCommands(script));
        if (Console.IsInputRedirected) return await RunScriptAsync(shell, ReadStdin());
        return await RunInteractiveAsync(shell);
    }

    private static IEnumerable<string> ReadStdin()
    {
        string? line;
        while ((line = Console.In.ReadLine()) is not null)
            foreach (var command in ShellLine.SplitCommands(line))
                yield return command;
    }

    private static async Task<int> RunScriptAsync(IActorRef shell, IEnumerable<string> commands)
    {
        foreach (var command in commands)
        {
            switch (await ExecuteAsync(shell, command))
            {
                case ShellOutcome.Failed: return 1;
                case ShellOutcome.Exit: return 0;
            }
        }
        return 0;
    }

    private static async Task<int> RunInteractiveAsync(IActorRef shell)
    {
        Console.WriteLine("objectstore shell — type 'help' for commands, 'exit' or Ctrl+D to leave.");
        var editor = new LineEditor();
        while (editor.ReadLine("objectstore> ") is { } line)
        {
            foreach (var command in ShellLine.SplitCommands(line))
                if (await ExecuteAsync(shell, command) == ShellOutcome.Exit)
                    return 0;
        }
        return 0;
    }

    private static Task<ShellOutcome> ExecuteAsync(IActorRef shell, string command)
    {
        // The shell actor completes this for every command, success or not; each command is bounded by
        // its own timeouts (request timeout, transfer idle timeout), so this wait is bounded too.
        var done = new TaskCompletionSource<ShellOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        shell.Tell(new ShellActor.Execute(command, done));
        return done.Task;
    }
}
