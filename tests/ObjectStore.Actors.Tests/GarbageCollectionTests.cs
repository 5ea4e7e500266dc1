using Akka.Actor;
using ObjectStore.Actors.Storage;
using ObjectStore.Core.Chunking;
using ObjectStore.Core.Hashing;
using static ObjectStore.Actors.Storage.ChunkStorageProtocol;

namespace ObjectStore.Actors.Tests;

/// <summary>rm gives back what only the deleted object used; the periodic sweep removes what nothing references, after its grace, and never what a put pins.</summary>
public class GarbageCollectionTests : StoreTestKit
{
    private async Task<ChunkKeeperActor.GarbageCollected> CollectAsync() =>
        await Node!.Keeper.Ask<ChunkKeeperActor.GarbageCollected>(ChunkKeeperActor.CollectGarbage.Instance, TimeSpan.FromSeconds(10));

    private HashSet<ContentHash> ChunksOnDisk() => Node!.Chunks.EnumerateChunks().ToHashSet();

    [Fact]
    public async Task Rm_reclaims_the_chunks_only_the_object_used_and_keeps_those_it_shares()
    {
        Settings = Settings with { Chunking = StoreSettings.Default.Chunking with { Algorithm = ChunkingAlgorithm.Fixed, FixedSize = 64 * 1024 } };
        var client = StartNode();
        var shared = new byte[4 * 64 * 1024];
        new Random(1).NextBytes(shared);
        var unique = new byte[2 * 64 * 1024];
        new Random(2).NextBytes(unique);
        var a = Path.Combine(WorkDirectory, "a");
        var b = Path.Combine(WorkDirectory, "b");
        File.WriteAllBytes(a, [.. shared, .. unique]);
        File.WriteAllBytes(b, shared);
        await client.PutFileAsync(a, "docs", "a");
        await client.PutFileAsync(b, "docs", "b");
        var sharedIds = Enumerable.Range(0, 4).Select(i => ContentHash.Compute(shared.AsSpan(i * 65536, 65536))).ToHashSet();
        var uniqueIds = Enumerable.Range(0, 2).Select(i => ContentHash.Compute(unique.AsSpan(i * 65536, 65536))).ToHashSet();
        Assert.Superset(sharedIds.Concat(uniqueIds).ToHashSet(), ChunksOnDisk());

        await client.DeleteAsync("docs", "a");

        Assert.Equal(sharedIds, ChunksOnDisk());
        var back = Path.Combine(WorkDirectory, "b-back");
        await client.GetFileAsync("docs", "b", back);
        Assert.Equal(shared, File.ReadAllBytes(back));
    }

    [Fact]
    public async Task The_sweep_removes_old_files_nothing_references_and_keeps_new_ones_referenced_ones_and_pinned_ones()
    {
        Settings = Settings with { Repair = Settings.Repair with { GcGrace = TimeSpan.FromMinutes(10) } };
        var client = StartNode();
        var file = WriteRandomFile("kept", 300_000, 3);
        await client.PutFileAsync(file, "docs", "kept");
        var referenced = ChunksOnDisk();
        foreach (var id in referenced) File.SetLastWriteTimeUtc(Node!.Chunks.PathOf(id), DateTime.UtcNow.AddHours(-2));

        ContentHash Plant(int seed, bool old)
        {
            var data = new byte[5000];
            new Random(seed).NextBytes(data);
            var id = ContentHash.Compute(data);
            var path = Node!.Chunks.PathOf(id);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, data);
            if (old) File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddHours(-2));
            return id;
        }
        var orphan = Plant(10, old: true);
        var fresh = Plant(11, old: false);
        var pinned = Plant(12, old: true);
        // A put in progress holds a claim on it (as a peer's offer does).
        var claim = await Node!.Keeper.Ask<ChunkClaim>(new ClaimChunk(pinned, "upload-in-progress"), TimeSpan.FromSeconds(10));
        Assert.True(claim.Present);

        var result = await CollectAsync();

        Assert.Equal(1, result.Removed);
        var left = ChunksOnDisk();
        Assert.DoesNotContain(orphan, left);
        Assert.Contains(fresh, left);
        Assert.Contains(pinned, left);
        Assert.Superset(referenced, left);
        var back = Path.Combine(WorkDirectory, "back");
        await client.GetFileAsync("docs", "kept", back);
        Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(back));
    }
}
