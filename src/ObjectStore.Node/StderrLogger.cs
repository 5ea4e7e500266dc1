using Akka.Actor;
using Akka.Event;

namespace ObjectStore.Node;

/// <summary>
/// Akka log events on stderr. The shell's stdout carries command results only (scripts parse it), so
/// its Akka logging cannot use the default stdout logger.
/// </summary>
public sealed class StderrLogger : ReceiveActor
{
    public StderrLogger()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e => Console.Error.WriteLine($"[{e.LogLevel().ToString().Replace("Level", "").ToUpperInvariant()}] {e.LogSource}: {e.Message}"));
    }
}
