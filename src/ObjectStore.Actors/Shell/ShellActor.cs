using Akka.Actor;
using ObjectStore.Actors.Client;

namespace ObjectStore.Actors.Shell;

/// <summary>
/// The console shell's actor: runs one command line at a time against a node (the mailbox waits while a
/// command runs) and writes what happened to an <see cref="IShellOutput"/>. The caller learns whether
/// the command succeeded through the <see cref="Execute"/> message's completion source.
/// </summary>
public sealed class ShellActor : ReceiveActor
{
    /// <summary>Run one command; <paramref name="Done"/> gets true on success, false after an error was printed.</summary>
    /// <param name="Cancel">Cancelled by Ctrl+C: the command stops and undoes what it started on the node.</param>
    public sealed record Execute(string Command, TaskCompletionSource<ShellOutcome> Done, CancellationToken Cancel = default) : Akka.Actor.INoSerializationVerificationNeeded;

    private readonly ShellCommands _commands;

    public ShellActor(StoreClient client, IShellOutput output)
    {
        _commands = new ShellCommands(client, output);
        ReceiveAsync<Execute>(async m => m.Done.TrySetResult(await _commands.RunReportingAsync(m.Command, m.Cancel)));
    }

    public static Props Props(StoreClient client, IShellOutput output) =>
        ActorProps.Of(() => new ShellActor(client, output));
}

public enum ShellOutcome
{
    Ok,
    Failed,
    Exit,
}
