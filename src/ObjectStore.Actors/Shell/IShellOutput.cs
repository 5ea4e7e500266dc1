namespace ObjectStore.Actors.Shell;

/// <summary>Where the shell's results go: a console, or a list in a test.</summary>
public interface IShellOutput
{
    void Line(string text);
    void Error(string text);
    /// <summary>Starts a progress display for a transfer of <paramref name="total"/> bytes; dispose it to end it.</summary>
    IShellProgress StartProgress(string label, long total);
}

public interface IShellProgress : IProgress<long>, IDisposable;
