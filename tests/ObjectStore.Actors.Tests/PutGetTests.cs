using static ObjectStore.Actors.Protocol.StoreProtocol;
using ObjectStore.Actors.Client;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Hashing;

namespace ObjectStore.Actors.Tests;

public class PutGetTests : StoreTestKit
{
    [Fact]
    public async Task A_file_put_through_the_actors_comes_back_byte_for_byte()
    {
        var client = StartNode();
        var source = WriteRandomFile("in.bin", 3 * 1024 * 1024 + 123, 1);

        var put = await Within(client.PutFileAsync(source, "photos", "holiday/in.bin"));
        var target = Path.Combine(WorkDirectory, "out.bin");
        var info = await Within(client.GetFileAsync("photos", "holiday/in.bin", target));

        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(target));
        Assert.Equal(ContentHash.Compute(File.ReadAllBytes(source)), info.Sha256);
        Assert.Equal(put.Object.VersionId, info.VersionId);
        Assert.True(put.Object.ChunkCount > 1);
        Assert.Equal(put.Object.Size, put.NewChunkBytes);
    }

    [Theory]
    [InlineData(10_000)]  // below the minimum chunk size: hashed once, stored as one chunk
    [InlineData(60_000)]  // above it: through the chunker, all at once
    public async Task A_small_file_travels_inside_the_request_and_is_stored_as_a_streamed_put_would_be(int size)
    {
        var client = StartNode();
        var source = WriteRandomFile("small", size, size);

        var small = await Within(client.PutFileAsync(source, "photos", "small"));
        var result = new TaskCompletionSource<PutCompleted>();
        Sys.ActorOf(FileUploaderActor.Props(client.Node, source, "photos", "streamed", TimeSpan.FromSeconds(10), result));
        var streamed = await Within(result.Task);

        Assert.Equal(ContentHash.Compute(File.ReadAllBytes(source)), small.Object.Sha256);
        Assert.Equal(streamed.Object.Sha256, small.Object.Sha256);
        Assert.Equal(size, small.NewChunkBytes);
        Assert.Equal(0, streamed.NewChunkBytes); // every chunk was already there
        var smallChunks = (await Within(client.StatAsync("photos", "small"))).Chunks.Select(c => c.Id);
        var streamedChunks = (await Within(client.StatAsync("photos", "streamed"))).Chunks.Select(c => c.Id);
        Assert.Equal(streamedChunks, smallChunks);
        var target = Path.Combine(WorkDirectory, "out");
        await Within(client.GetFileAsync("photos", "small", target));
        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(target));
    }

    [Fact]
    public async Task An_empty_file_is_an_object_with_no_chunks()
    {
        var client = StartNode();
        var source = Path.Combine(WorkDirectory, "empty");
        File.WriteAllBytes(source, []);

        var put = await Within(client.PutFileAsync(source, "photos", "empty"));
        var target = Path.Combine(WorkDirectory, "empty.out");
        await Within(client.GetFileAsync("photos", "empty", target));

        Assert.Equal(0, put.Object.ChunkCount);
        Assert.Empty(File.ReadAllBytes(target));
    }

    [Fact]
    public async Task Putting_a_key_again_replaces_it_and_removes_chunks_nothing_uses()
    {
        var client = StartNode();
        await Within(client.PutFileAsync(WriteRandomFile("a", 1_000_000, 1), "photos", "k"));
        await Within(client.PutFileAsync(WriteRandomFile("b", 1_000_000, 2), "photos", "k"));

        var listing = await Within(client.ListAsync("photos", ""));
        Assert.Single(listing.Objects);
        var details = await Within(client.StatAsync("photos", "k"));
        Assert.All(details.Chunks, c => Assert.NotEmpty(c.Nodes));
        Assert.Equal(details.Chunks.Select(c => c.Id.ToString()).ToHashSet(), ChunkFiles().Select(f => Path.GetFileName(f)!).ToHashSet());
    }

    [Fact]
    public async Task Dedup_stores_under_a_tenth_of_a_file_edited_near_its_start()
    {
        // The real default chunk sizes (256 KiB / 1 MiB / 4 MiB) on a 32 MiB file.
        Settings = Settings with { Chunking = StoreSettings.Default.Chunking };
        var client = StartNode();
        var original = new byte[32 * 1024 * 1024];
        new Random(5).NextBytes(original);
        var edited = original[..4096].Concat(Enumerable.Repeat((byte)0xAB, 100)).Concat(original[4096..]).ToArray();
        var first = Path.Combine(WorkDirectory, "first");
        var second = Path.Combine(WorkDirectory, "second");
        File.WriteAllBytes(first, original);
        File.WriteAllBytes(second, edited);

        await Within(client.PutFileAsync(first, "backups", "v1"));
        var bytesBefore = ChunkFiles().Sum(f => new FileInfo(f).Length);
        var put = await Within(client.PutFileAsync(second, "backups", "v2"));
        var added = ChunkFiles().Sum(f => new FileInfo(f).Length) - bytesBefore;

        Assert.Equal(added, put.NewChunkBytes);
        Assert.True(added < edited.Length / 10, $"the edited file added {added} bytes of {edited.Length}");
    }

    [Fact]
    public async Task Deleting_an_object_removes_it_and_its_unshared_chunks()
    {
        var client = StartNode();
        await Within(client.PutFileAsync(WriteRandomFile("a", 500_000, 1), "photos", "a"));
        await Within(client.DeleteAsync("photos", "a"));

        Assert.Empty((await Within(client.ListAsync("photos", ""))).Objects);
        Assert.Empty(ChunkFiles());
        var error = await Assert.ThrowsAsync<StoreException>(() => Within(client.DeleteAsync("photos", "a")));
        Assert.Equal(StoreErrorCode.NotFound, error.Code);
    }

    [Fact]
    public async Task Listing_pages_through_many_objects_in_key_order()
    {
        var client = StartNode();
        var file = WriteRandomFile("small", 10, 1);
        for (var i = 0; i < 25; i++) await Within(client.PutFileAsync(file, "many", $"k{i:D3}"));

        var page = await Within(client.ListAsync("many", "k0", limit: 10));
        Assert.True(page.Truncated);
        var all = new List<string>();
        await foreach (var o in client.ListAllAsync("many", "")) all.Add(o.Key);
        Assert.Equal(Enumerable.Range(0, 25).Select(i => $"k{i:D3}"), all);
        Assert.Equal(25, Assert.Single((await Within(client.ListBucketsAsync())).Buckets).Objects);
    }
}
