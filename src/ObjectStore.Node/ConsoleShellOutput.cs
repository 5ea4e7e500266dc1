using System.Diagnostics;
using ObjectStore.Actors.Shell;

namespace ObjectStore.Node;

/// <summary>Shell output on the console: results on stdout, errors on stderr, progress bars on a terminal's stderr.</summary>
public sealed class ConsoleShellOutput : IShellOutput
{
    private readonly object _gate = new();

    public void Line(string text)
    {
        lock (_gate) Console.Out.WriteLine(text);
    }

    public void Error(string text)
    {
        lock (_gate) Console.Error.WriteLine(text);
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
