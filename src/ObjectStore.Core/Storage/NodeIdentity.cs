namespace ObjectStore.Core.Storage;

/// <summary>
/// A node's stable id, kept in <c>DATA/node-id</c>: a node restarted on the same data directory is the
/// same owner, whatever address it comes back on.
/// </summary>
public static class NodeIdentity
{
    public static string LoadOrCreate(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var path = Path.Combine(dataDirectory, "node-id");
        if (File.Exists(path))
        {
            var existing = File.ReadAllText(path).Trim();
            if (existing.Length > 0) return existing;
        }
        var id = $"node-{Guid.NewGuid():N}"[..17];
        DurableFiles.WriteAtomic(path, System.Text.Encoding.UTF8.GetBytes(id + "\n"));
        return id;
    }
}
