using ObjectStore.Core.Metadata;

namespace ObjectStore.Actors.Replication;

/// <summary>
/// Chunk lists of large manifests arriving page by page, until their commit takes them, their put is
/// released, or no page came for the lease. Pages must come in order, and one list is bounded, so a forged
/// stream of pages cannot fill the memory.
/// </summary>
internal sealed class StagedChunkLists
{
    /// <summary>64 M chunks: 256 TiB at 4 MiB each.</summary>
    public const int MaxChunks = 64 * 1024 * 1024;

    private readonly Dictionary<(string Upload, string Version), (List<ChunkRef> Chunks, DateTime LastPage)> _lists = new();

    /// <summary>Adds a page; returns the index of the next chunk due, or an error.</summary>
    public (int Next, string? Error) Add(string upload, string version, int start, IReadOnlyList<ChunkRef> page, DateTime now)
    {
        var key = (upload, version);
        var list = _lists.TryGetValue(key, out var staged) ? staged.Chunks : [];
        if (start != list.Count || list.Count + page.Count > MaxChunks) return (list.Count, $"chunk page at {start} arrived where {list.Count} was due");
        list.AddRange(page);
        _lists[key] = (list, now);
        return (list.Count, null);
    }

    /// <summary>Takes the whole list staged for a version, if there is one.</summary>
    public List<ChunkRef>? Take(string upload, string version) => _lists.Remove((upload, version), out var staged) ? staged.Chunks : null;

    public void Drop(string upload)
    {
        foreach (var key in _lists.Keys.Where(k => k.Upload == upload).ToList()) _lists.Remove(key);
    }

    /// <summary>Drops the lists that got no page since <paramref name="cutoff"/>; returns how many.</summary>
    public int DropIdle(DateTime cutoff)
    {
        var idle = _lists.Where(l => l.Value.LastPage < cutoff).Select(l => l.Key).ToList();
        foreach (var key in idle) _lists.Remove(key);
        return idle.Count;
    }
}
