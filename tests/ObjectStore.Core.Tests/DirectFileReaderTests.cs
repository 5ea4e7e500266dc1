using ObjectStore.Core.Hashing;
using ObjectStore.Core.Storage;

namespace ObjectStore.Core.Tests;

public class DirectFileReaderTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4095)]
    [InlineData(4096)]
    [InlineData(4097)]
    [InlineData(128 * 1024 - 1)] // the largest that is read through the page cache (an unaligned buffer)
    [InlineData(128 * 1024)]
    [InlineData(1024 * 1024 + 3)]
    [InlineData(4 * 1024 * 1024)]
    public void A_file_read_into_a_pooled_buffer_has_exactly_its_bytes(int size)
    {
        var data = new byte[size];
        new Random(size).NextBytes(data);
        var path = Path.Combine(_dir.Path, $"f{size}");
        File.WriteAllBytes(path, data);

        foreach (var direct in new[] { true, false })
        {
            using var buffer = DirectFileReader.Read(path, direct);
            Assert.Equal(size, buffer.Length);
            Assert.True(buffer.Span.SequenceEqual(data), $"direct: {direct}");
        }
    }

    [Fact]
    public void A_missing_file_is_FileNotFound()
    {
        Assert.Throws<FileNotFoundException>(() => DirectFileReader.Read(Path.Combine(_dir.Path, "nothing")));
        Assert.Throws<FileNotFoundException>(() => DirectFileReader.Read(Path.Combine(_dir.Path, "nothing"), direct: false));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_pooled_read_of_a_corrupt_chunk_quarantines_it_and_of_a_missing_one_says_missing(bool directReads)
    {
        var store = new ChunkStore(_dir.Path, directReads: directReads);
        var data = new byte[300_000];
        new Random(7).NextBytes(data);
        var id = ContentHash.Compute(data);
        store.Put(id, data);
        using (var good = store.ReadPooled(id)) Assert.True(good.Span.SequenceEqual(data));

        var bytes = File.ReadAllBytes(store.PathOf(id));
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(store.PathOf(id), bytes);
        using (var unchecked_ = store.ReadPooled(id, verify: false)) Assert.Equal(bytes, unchecked_.Span.ToArray()); // the caller checks

        var error = Assert.Throws<ChunkCorruptException>(() => store.ReadPooled(id));
        Assert.True(File.Exists(error.QuarantinePath));
        Assert.Throws<ChunkMissingException>(() => store.ReadPooled(id));
    }
}
