using System.Diagnostics;
using System.Text;
using ObjectStore.Actors.Shell;

namespace ObjectStore.Node;

/// <summary>
/// Shell output on the console: results on stdout, errors on stderr, progress bars on a terminal's stderr. Stdout
/// redirected (a script's output to a file or a pipe) is buffered, as C's stdio does: a get -r of 2,000 small
/// objects printed a line per object, each its own write(2); it is written at the end of every command, before
/// every error (which goes to stderr, perhaps the same file) and at least once a second while lines come.
/// </summary>
public sealed class ConsoleShellOutput : IShellOutput
{
    private static readonly TimeSpan FlushEvery = TimeSpan.FromSeconds(1);
    private readonly object _gate = new();
    private long _flushedAt = Environment.TickCount64;

    /// <summary>Makes stdout buffered when it is not a terminal (once per process); <see cref="Flush"/> writes it out.</summary>
    public static void BufferStdoutWhenRedirected()
    {
        if (Console.IsOutputRedirected && !_buffered)
        {
            Console.SetOut(new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 64 * 1024) { AutoFlush = false });
            _buffered = true;
        }
    }

    private static bool _buffered;

    public static void Flush() => Console.Out.Flush();

    public void Line(string text)
    {
        lock (_gate)
        {
            Console.Out.WriteLine(text);
            if (_buffered && Environment.TickCount64 - _flushedAt >= FlushEvery.TotalMilliseconds)
            {
                Console.Out.Flush();
                _flushedAt = Environment.TickCount64;
            }
        }
    }

    public void Error(string text)
    {
        lock (_gate)
        {
            Console.Out.Flush();
            Console.Error.WriteLine(text);
        }
    }

    public IShellProgress StartProgress(string label, long total) =>
        Console.IsErrorRedirected ? NoProgress.Instance : new ProgressBar(label, total, _gate);

    private sealed class NoProgress : IShellProgress
    {
        public static readonly NoProgress Instance = new();
        public void Report(long value) { }
        public void Dispose() { }
    }

    private sealed class ProgressBar(string label, long total, object gate) : IShellProgress
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private long _lastDrawMs = -1000;
        private long _done;

        public void Report(long value)
        {
            _done = value;
            if (_clock.ElapsedMilliseconds - _lastDrawMs < 100 && value < total) return;
            _lastDrawMs = _clock.ElapsedMilliseconds;
            Draw();
        }

        private void Draw()
        {
            const int width = 30;
            var fraction = total == 0 ? 1 : Math.Clamp((double)_done / total, 0, 1);
            var filled = (int)(fraction * width);
            var rate = _done / Math.Max(_clock.Elapsed.TotalSeconds, 0.001);
            var text = $"\r{label} [{new string('#', filled)}{new string('.', width - filled)}] {fraction,4:P0} " +
                       $"{Sizes.Human(_done)}/{Sizes.Human(total)} {Sizes.Human((long)rate)}/s  ";
            lock (gate) Console.Error.Write(text);
        }

        public void Dispose()
        {
            lock (gate) Console.Error.Write("\r" + new string(' ', Math.Min(Console.WindowWidth - 1, 120)) + "\r");
        }
    }
}
