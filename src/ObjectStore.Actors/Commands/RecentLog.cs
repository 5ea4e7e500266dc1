using System.Threading.Channels;
using Akka.Actor;
using Akka.Event;

namespace ObjectStore.Actors.Commands;

/// <summary>
/// The node's last log events in memory (for `log peek`), and a feed of new ones (for `log tail`): an
/// actor subscribed to the event stream, so it sees what the node's loggers see, at the level in force.
/// </summary>
public sealed class RecentLog
{
    public const int Capacity = 1000;

    private readonly LinkedList<string> _lines = new();
    private readonly List<ChannelWriter<string>> _tails = [];

    private RecentLog() { }

    public static RecentLog Start(ActorSystem system)
    {
        var log = new RecentLog();
        var listener = system.ActorOf(ActorProps.Of(() => new Listener(log, system.EventStream)), "recent-log");
        system.EventStream.Subscribe(listener, typeof(LogEvent));
        return log;
    }

    /// <summary>The last <paramref name="count"/> lines, oldest first.</summary>
    public IReadOnlyList<string> Last(int count)
    {
        lock (_lines) return _lines.Skip(Math.Max(0, _lines.Count - count)).ToList();
    }

    /// <summary>Lines logged from now on, until <paramref name="cancel"/>.</summary>
    public async IAsyncEnumerable<string> TailAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancel)
    {
        // Bounded: a client that reads slowly loses lines rather than growing the node's memory.
        var channel = Channel.CreateBounded<string>(new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropOldest });
        lock (_tails) _tails.Add(channel.Writer);
        try
        {
            await foreach (var line in channel.Reader.ReadAllAsync(cancel)) yield return line;
        }
        finally
        {
            lock (_tails) _tails.Remove(channel.Writer);
        }
    }

    private void Add(LogEvent e)
    {
        var line = $"{e.Timestamp:yyyy-MM-dd HH:mm:ss.fff} [{e.LogLevel().ToString().Replace("Level", "").ToUpperInvariant()}] {e.LogSource}: {e.Message}" +
                   (e.Cause is null ? "" : $" ({e.Cause.GetBaseException().Message})");
        lock (_lines)
        {
            _lines.AddLast(line);
            if (_lines.Count > Capacity) _lines.RemoveFirst();
        }
        lock (_tails)
            foreach (var tail in _tails) tail.TryWrite(line);
    }

    private sealed class Listener : ReceiveActor
    {
        // Some of Akka's own debug events reach the stream whatever the level: only what the loggers print is kept.
        // (Handled either way: an unhandled event would itself be logged, and come back here.)
        public Listener(RecentLog log, LoggingBus bus) => Receive<LogEvent>(e =>
        {
            if (e.LogLevel() >= bus.LogLevel) log.Add(e);
        });
    }
}
