using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Hashing;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Tests;

/// <summary>
/// Small objects got in batches (GetSmallObjects): every object whole and checked, one the reply cannot
/// hold left to a get of its own, one that is missing or corrupt everywhere failing alone, and a chunk
/// corrupt on the node asked read from another holder.
/// </summary>
public sealed class SmallGetBatchTests : ClusterTestKit
{
    private static byte[] Random4K(int seed) => RandomBytes(4096, seed);

    [Fact]
    public async Task A_batch_of_small_gets_brings_each_object_whole_or_says_why_not_one_by_one()
    {
        Cluster = new TestCluster(ClusterRoot, factor: 3, quorum: 2, lateCopyGrace: TimeSpan.FromSeconds(10));
        await Cluster.StartAsync(3);
        var asked = Cluster.Nodes[0];
        var objects = Enumerable.Range(0, 8).Select(i => new PutSmallObject("small", $"g/{i}", Random4K(300 + i))).ToList();
        Assert.All((await Within(asked.Client.PutSmallBatchAsync(objects))).Outcomes, o => Assert.Null(o.Error));
        var big = Path.Combine(ClusterRoot, "big");
        Directory.CreateDirectory(ClusterRoot);
        File.WriteAllBytes(big, Enumerable.Range(0, 200_000).Select(i => (byte)(i * 7)).ToArray());
        await Within(asked.Client.PutFileAsync(big, "small", "g/big"));
        // g/1 is corrupt on the node asked (read from another holder); g/2 on every node (it fails alone).
        asked.CorruptChunk(ContentHash.Compute(objects[1].Data.Span));
        foreach (var node in Cluster.Nodes) node.CorruptChunk(ContentHash.Compute(objects[2].Data.Span));

        var keys = objects.Select(o => o.Key).Concat(["g/big", "g/nope"]).ToList();
        var found = await Within(asked.Client.GetSmallBatchAsync("small", keys));

        Assert.Equal(keys, found.Outcomes.Select(o => o.Key));
        for (var i = 0; i < objects.Count; i++)
        {
            var outcome = found.Outcomes[i];
            if (i == 2)
            {
                Assert.Equal(StoreErrorCode.Corrupt, outcome.Error?.Code);
                Assert.False(outcome.Whole);
                continue;
            }
            Assert.Null(outcome.Error);
            Assert.True(outcome.Whole);
            Assert.Equal(objects[i].Data.ToArray(), outcome.Data.ToArray());
            Assert.Equal(ContentHash.Compute(objects[i].Data.Span), outcome.Object!.Sha256);
        }
        var alone = found.Outcomes[^2];
        Assert.Null(alone.Error);
        Assert.False(alone.Whole);
        Assert.Equal(200_000, alone.Object!.Size);
        Assert.Equal(StoreErrorCode.NotFound, found.Outcomes[^1].Error?.Code);
    }
}
