using Akka.Actor;
using Akka.Event;

namespace ObjectStore.Actors.Tests;

/// <summary>
/// The test systems' logger (stdout, which the CI log shows). A failure a test provokes on purpose — its
/// fault injectors all say "simulated" — is printed as one line that says it was provoked, so that an
/// ERROR in the CI log is one nobody expected. A peer or shell that went away (Akka.Remote's
/// "Disassociated", logged at ERROR by Akka) is a normal event in these tests and is not printed; a
/// failure that is retried (<see cref="RetriedFailureException"/>) is a warning, as in a node's log.
/// </summary>
public sealed class TestLog : ReceiveActor
{
    public TestLog()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e =>
        {
            if (e.Cause?.GetType().Name == "EndpointDisassociatedException") return; // the type is internal to Akka.Remote
            if (e.Cause is Akka.Remote.RemoteTransportException && e.Cause.Message.Contains("Remoting is not running"))
            {
                // A message sent while a test's node system is shutting down (its teardown).
                Console.WriteLine($"[during shutdown] {e.LogSource}: {e.Cause.Message}");
                return;
            }
            if (e.Cause is RetriedFailureException)
            {
                Console.WriteLine($"[retried] warning from {e.LogSource}: {e.Cause.Message}");
                return;
            }
            if (e is Error or Warning && Provoked(e))
            {
                Console.WriteLine($"[provoked by the test, expected] {e.LogLevel().ToString().Replace("Level", "").ToLowerInvariant()} from {e.LogSource}: {e.Message}");
                return;
            }
            Console.WriteLine(e.ToString());
        });
    }

    private static bool Provoked(LogEvent e)
    {
        if (e.Message?.ToString()?.Contains("simulated", StringComparison.Ordinal) == true) return true;
        for (var cause = e.Cause; cause is not null; cause = cause.InnerException)
            if (cause.Message.Contains("simulated", StringComparison.Ordinal)) return true;
        return false;
    }
}
