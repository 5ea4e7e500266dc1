using System.Collections.Concurrent;

namespace ObjectStore.Actors.Shell;

/// <summary>
/// The directories a get -r has made so far: each file's parent is created once, not once per file (each
/// Directory.CreateDirectory of an existing directory costs a failing mkdir and a walk of lstats).
/// </summary>
internal sealed class LocalDirectories
{
    private readonly ConcurrentDictionary<string, bool> _made = new(StringComparer.Ordinal);

    /// <summary>Creates the directory <paramref name="file"/> goes into, unless this get made it already.</summary>
    public void Ensure(string file)
    {
        var directory = Path.GetDirectoryName(file)!;
        if (_made.ContainsKey(directory)) return;
        Directory.CreateDirectory(directory);
        _made.TryAdd(directory, true);
    }
}
