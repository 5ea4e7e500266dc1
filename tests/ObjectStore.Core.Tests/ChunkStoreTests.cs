using ObjectStore.Core.Hashing;
using ObjectStore.Core.Storage;

namespace ObjectStore.Core.Tests;

public class ChunkStoreTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static (ContentHash Id, byte[] Data) Chunk(int size, int seed)
    {
        var data = new byte[size];
        new Random(seed).NextBytes(data);
        return (ContentHash.Compute(data), data);
    }

    [Fact]
    public void Stored_chunk_reads_back_and_lives_under_its_hash()
    {
        var store = new ChunkStore(_dir.Path);
        var (id, data) = Chunk(100_000, 1);

        Assert.True(store.Put(id, data));
        Assert.Equal(data, store.Read(id));
        var hex = id.ToString();
        Assert.True(File.Exists(Path.Combine(_dir.Path, "chunks", hex[..2], hex)));
    }

    [Fact]
    public void A_chunk_whose_directory_was_removed_under_the_store_is_stored_again_in_a_new_one()
    {
        var store = new ChunkStore(_dir.Path);
        var (id, data) = Chunk(100_000, 5);
        Directory.Delete(Path.Combine(_dir.Path, "chunks"), recursive: true);

        Assert.True(store.Put(id, data));

        Assert.Equal(data, store.Read(id));
        // And a corrupt one still goes to a quarantine that is gone too.
        Directory.Delete(Path.Combine(_dir.Path, "quarantine"), recursive: true);
        File.WriteAllBytes(store.PathOf(id), new byte[100_000]);
        Assert.Throws<ChunkCorruptException>(() => store.Read(id));
        Assert.Single(Directory.GetFiles(Path.Combine(_dir.Path, "quarantine")));
    }

    [Fact]
    public void A_chunk_already_present_is_not_rewritten()
    {
        var store = new ChunkStore(_dir.Path);
        var (id, data) = Chunk(1000, 2);
        store.Put(id, data);
        var written = File.GetLastWriteTimeUtc(store.PathOf(id));

        Assert.False(store.Put(id, data));
        Assert.Equal(written, File.GetLastWriteTimeUtc(store.PathOf(id)));
    }

    [Fact]
    public void The_same_chunk_written_twice_before_its_commit_counts_once_and_leaves_no_temp_file()
    {
        var store = new ChunkStore(_dir.Path);
        store.StartCount(0);
        var (id, data) = Chunk(4096, 7);
        // Two uploads of the same bytes at once: both write a temp file before either commits.
        var first = store.WriteTemp(id, data)!;
        var second = store.WriteTemp(id, data)!;

        Assert.Equal(1, store.MakeDurable([first, second]));

        Assert.Equal(1, store.Count);
        Assert.Equal(data, store.Read(id));
        Assert.Empty(Directory.GetFiles(Path.Combine(_dir.Path, "tmp")));
        // Once it is in place a later write of it is skipped altogether.
        Assert.Null(store.WriteTemp(id, data));
    }

    [Fact]
    public void A_corrupt_chunk_is_reported_and_moved_to_quarantine()
    {
        var store = new ChunkStore(_dir.Path);
        var (id, data) = Chunk(5000, 3);
        store.Put(id, data);
        var bytes = File.ReadAllBytes(store.PathOf(id));
        bytes[1234] ^= 0xFF;
        File.WriteAllBytes(store.PathOf(id), bytes);

        var error = Assert.Throws<ChunkCorruptException>(() => store.Read(id));
        Assert.Equal(id, error.ChunkId);
        Assert.False(store.Contains(id));
        Assert.True(File.Exists(error.QuarantinePath));
        Assert.Throws<ChunkMissingException>(() => store.Read(id));
    }

    private sealed class CrashBeforeRename : IStorageFaults
    {
        public void BeforeRename(ContentHash id) => throw new IOException("simulated crash before rename");
        public void BeforeRead(ContentHash id) { }
        public void BeforeCommit(string bucket, string key) { }
    }

    [Fact]
    public void A_crash_between_temp_write_and_rename_leaves_no_visible_chunk()
    {
        var (id, data) = Chunk(5000, 4);
        var store = new ChunkStore(_dir.Path, faults: new CrashBeforeRename());

        Assert.Throws<IOException>(() => store.Put(id, data));

        var restarted = new ChunkStore(_dir.Path);
        restarted.RemoveLeftoverTempFiles();
        Assert.False(restarted.Contains(id));
        Assert.Empty(restarted.EnumerateChunks());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_dir.Path, "tmp")));
    }

    [Fact]
    public void Leftover_temp_files_from_a_killed_process_are_removed_at_start()
    {
        var store = new ChunkStore(_dir.Path);
        File.WriteAllBytes(Path.Combine(_dir.Path, "tmp", "abc.partial"), [1, 2, 3]);
        Assert.Equal(1, store.RemoveLeftoverTempFiles());
    }

    [Fact]
    public void Node_id_is_stable_across_restarts()
    {
        var first = NodeIdentity.LoadOrCreate(_dir.Path);
        Assert.Equal(first, NodeIdentity.LoadOrCreate(_dir.Path));
        Assert.StartsWith("node-", first);
    }
}
