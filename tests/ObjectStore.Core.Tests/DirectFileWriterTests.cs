using ObjectStore.Core.Hashing;
using ObjectStore.Core.Storage;

namespace ObjectStore.Core.Tests;

public class DirectFileWriterTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static byte[] Random(int size, int seed)
    {
        var data = new byte[size];
        new Random(seed).NextBytes(data);
        return data;
    }

    [DirectIoTheory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4095)]
    [InlineData(4096)]
    [InlineData(4097)]
    [InlineData(1024 * 1024 + 3)]
    [InlineData(4 * 1024 * 1024)]
    [InlineData(5 * 1024 * 1024 + 17)] // larger than a pooled staging buffer
    public void A_file_written_directly_has_exactly_the_bytes_and_the_length(int size)
    {
        var path = Path.Combine(_dir.Path, $"f{size}");
        var data = Random(size, size);

        Assert.True(DirectFileWriter.TryWriteNew(path, data));

        Assert.Equal(data, File.ReadAllBytes(path));
    }

    [DirectIoTheory]
    [InlineData(128 * 1024)]
    [InlineData(128 * 1024 + 1)]
    [InlineData(1024 * 1024 + 3)]
    [InlineData(4 * 1024 * 1024 - 1)]
    [InlineData(5 * 1024 * 1024 + 17)]
    public void A_chunk_buffer_is_written_without_a_staging_copy_and_reads_back_exactly(int size)
    {
        var data = Random(size, size + 1);
        using var chunk = Chunking.ChunkBuffer.Rent(size);
        chunk.Append(data);
        var padded = chunk.AlignedPadded();
        Assert.Equal(0, padded.Length % Chunking.ChunkBuffer.Alignment);
        var path = Path.Combine(_dir.Path, $"c{size}");
        var before = DirectFileWriter.StagedWritesOnThisThread;

        var store = new ChunkStore(Path.Combine(_dir.Path, "store"), fsync: false);
        var id = ContentHash.Compute(data);
        var pending = store.WriteTemp(id, chunk);
        store.MakeDurable([pending!]);

        Assert.Equal(before, DirectFileWriter.StagedWritesOnThisThread);
        Assert.Equal(data, store.Read(id));
        Assert.Equal(data, chunk.Span.ToArray()); // the holders' view of the bytes is untouched
    }

    [Fact]
    public void Aligned_chunk_buffers_start_on_a_block_and_are_padded_with_zeros()
    {
        for (var round = 0; round < 3; round++)
        {
            using var chunk = Chunking.ChunkBuffer.Rent(300_000);
            chunk.Append(Enumerable.Repeat((byte)0xAB, 300_000 - round).ToArray());
            var padded = chunk.AlignedPadded();
            unsafe
            {
                fixed (byte* start = padded) Assert.Equal(0, (long)start % Chunking.ChunkBuffer.Alignment);
            }
            Assert.Equal((300_000 - round + 4095) / 4096 * 4096, padded.Length);
            Assert.All(padded[(300_000 - round)..].ToArray(), b => Assert.Equal(0, b));
        }
        using var small = Chunking.ChunkBuffer.Rent(1000);
        Assert.Equal(0, small.AlignedPadded().Length); // small chunks are written through the page cache
    }

    [DirectIoFact]
    public void An_existing_file_is_an_error_and_stays_as_it_was()
    {
        var path = Path.Combine(_dir.Path, "taken");
        File.WriteAllText(path, "first");

        var error = Assert.Throws<IOException>(() => DirectFileWriter.TryWriteNew(path, Random(10_000, 1)));

        Assert.Contains("exists", error.Message);
        Assert.Contains(path, error.Message);
        Assert.Equal("first", File.ReadAllText(path));
    }

    [DirectIoFact]
    public void A_missing_directory_is_an_error_that_creates_nothing()
    {
        var path = Path.Combine(_dir.Path, "no-such-dir", "f");

        var error = Assert.Throws<IOException>(() => DirectFileWriter.TryWriteNew(path, Random(100, 2)));

        Assert.Contains("No such file or directory", error.Message);
        Assert.False(Directory.Exists(Path.GetDirectoryName(path)));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Chunks_written_either_way_read_back_verified(bool directIo)
    {
        var store = new ChunkStore(_dir.Path, directIo: directIo);
        var chunks = new[] { 1, 4096, ChunkStore.DirectWriteMinimum, 300_001, 2 * 1024 * 1024 }.Select(size => Random(size, size)).ToList();

        foreach (var data in chunks) Assert.True(store.Put(ContentHash.Compute(data), data));

        Assert.Equal(directIo && DirectIoProbe.Unsupported is null, store.DirectIo);
        foreach (var data in chunks) Assert.Equal(data, store.Read(ContentHash.Compute(data)));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_dir.Path, "tmp")));
    }

    [MountFact]
    public void On_a_file_system_that_refuses_O_DIRECT_chunks_are_written_buffered_and_read_back()
    {
        var mount = Path.Combine(_dir.Path, "ramfs");
        Directory.CreateDirectory(mount);
        Run("mount", $"-t ramfs ramfs {mount}");
        try
        {
            var store = new ChunkStore(mount, directIo: true);
            var data = Random(1024 * 1024 + 5, 7); // above the O_DIRECT threshold
            var id = ContentHash.Compute(data);

            Assert.True(store.Put(id, data));

            Assert.False(store.DirectIo);
            Assert.Equal(data, store.Read(id));
            Assert.Empty(Directory.EnumerateFiles(Path.Combine(mount, "tmp")));
            Assert.False(DirectFileWriter.TryWriteNew(Path.Combine(mount, "probe"), data));
            Assert.False(File.Exists(Path.Combine(mount, "probe")));
        }
        finally
        {
            Run("umount", $"-l {mount}");
        }
    }

    private static void Run(string command, string args)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(command, args) { RedirectStandardError = true })!;
        process.WaitForExit(10_000);
        if (process.ExitCode != 0) throw new InvalidOperationException($"{command} {args}: {process.StandardError.ReadToEnd()}");
    }
}
