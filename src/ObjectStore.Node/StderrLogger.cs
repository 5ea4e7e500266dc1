using Akka.Actor;
using Akka.Event;

namespace ObjectStore.Node;

/// <summary>
/// Akka log events on stderr, one line each with the time (UTC). Stdout carries what scripts read — a
/// node's "listening on" line, the shell's results — so no log line may land there.
/// </summary>
public sealed class StderrLogger : ReceiveActor
{
    public StderrLogger()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e =>
        {
            // Akka.Remote logs a peer or shell that went away at ERROR with a stack trace; a shell
            // disconnecting is normal, and a node lost is reported by the cluster (unreachable, removed).
            if (e.Cause?.GetType().Name == "EndpointDisassociatedException") return; // the type is internal to Akka.Remote
            var level = e.Cause is Actors.RetriedFailureException ? "WARNING" : e.LogLevel().ToString().Replace("Level", "").ToUpperInvariant();
            // An error's stack trace is for whoever reports it; a warning's cause is one line.
            var cause = e.Cause is null or Actors.RetriedFailureException ? "" : e is Error ? Environment.NewLine + e.Cause : $" ({e.Cause.GetBaseException().Message})";
            Console.Error.WriteLine($"{e.Timestamp:HH:mm:ss.fff} [{level}] {e.LogSource}: {e.Message}{cause}");
        });
    }
}
