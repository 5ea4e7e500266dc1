namespace ObjectStore.Core.Storage;

/// <summary>A second node on a data directory already in use; names the directory and the holder's process.</summary>
public sealed class DataDirectoryInUseException(string directory, string holder)
    : IOException($"data directory {directory} is in use by another node ({holder}); run one node per data directory");

/// <summary>
/// An exclusive lock on a data directory for the life of the node: two nodes on one directory would sweep each
/// other's temp files and unfinished chunks. The lock is the kernel's (an exclusive open of DATA/lock, which
/// .NET takes with flock on Linux), so a node killed with kill -9 never leaves it held. The holder's pid is
/// written beside it (DATA/lock.pid), for the error the next node prints.
/// </summary>
public sealed class DataDirectoryLock : IDisposable
{
    private readonly FileStream _lock;

    private DataDirectoryLock(FileStream held) => _lock = held;

    public static DataDirectoryLock Acquire(string dataDirectory)
    {
        var directory = Path.GetFullPath(dataDirectory);
        Directory.CreateDirectory(directory);
        var pidFile = Path.Combine(directory, "lock.pid");
        FileStream held;
        try
        {
            held = new FileStream(Path.Combine(directory, "lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            var holder = "pid unknown";
            try
            {
                holder = $"pid {File.ReadAllText(pidFile).Trim()}";
            }
            catch (IOException) { }
            throw new DataDirectoryInUseException(directory, holder);
        }
        File.WriteAllText(pidFile, Environment.ProcessId.ToString());
        return new DataDirectoryLock(held);
    }

    public void Dispose() => _lock.Dispose();
}
