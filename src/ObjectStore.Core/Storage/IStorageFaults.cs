using ObjectStore.Core.Hashing;

namespace ObjectStore.Core.Storage;

/// <summary>
/// Points where tests make storage fail, to prove that a failure at each step of a write
/// leaves no visible chunk and no object pointing at one. Production code passes none.
/// </summary>
public interface IStorageFaults
{
    /// <summary>Called before a chunk that is not yet present is written to a temp file.</summary>
    void BeforeWrite(ContentHash id) { }

    /// <summary>Called after the temp file is written and synced, before it is renamed into place.</summary>
    void BeforeRename(ContentHash id);

    /// <summary>Called before a chunk is read from disk.</summary>
    void BeforeRead(ContentHash id);

    /// <summary>Called before an object is committed to the index.</summary>
    void BeforeCommit(string bucket, string key);
}
