using ObjectStore.Actors.Shell;

namespace ObjectStore.Actors.Tests;

/// <summary>A shell's output kept as lines (transfers of a tree report from several threads at once).</summary>
internal sealed class RecordingOutput : IShellOutput
{
    public List<string> Lines { get; } = [];
    public List<string> Errors { get; } = [];
    public void Line(string text) { lock (Lines) Lines.Add(text); }
    public void Error(string text) { lock (Errors) Errors.Add(text); }
    public IShellProgress StartProgress(string label, long total) => new NoProgress();

    private sealed class NoProgress : IShellProgress
    {
        public void Report(long value) { }
        public void Dispose() { }
    }
}
