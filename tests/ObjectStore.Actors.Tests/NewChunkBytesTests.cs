using ObjectStore.Core.Hashing;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Tests;

/// <summary>
/// What a put reports as new bytes counts the chunks stored anew on any of their holders, not only on the node
/// the shell talks to: with one copy of each chunk on three nodes most chunks live elsewhere (and a gateway
/// holds none), and a put that said "0 B new" for new data told the user something false.
/// </summary>
public sealed class NewChunkBytesTests : ClusterTestKit
{
    [Fact]
    public async Task Chunks_new_on_other_nodes_count_as_new_and_a_second_put_of_the_same_bytes_counts_none()
    {
        Cluster = new TestCluster(ClusterRoot, factor: 1, quorum: 1);
        await Cluster.StartAsync(3);
        var asked = Cluster.Nodes[0];
        var file = WriteRandomFile("big.bin", 4 * 1024 * 1024, 77);
        // Small objects go to their owners in batches; keep the ones node 0 does not own.
        var small = Enumerable.Range(0, 40).Select(i => new PutSmallObject("fresh", $"s/{i}", RandomBytes(4096, 900 + i)))
            .Where(o => Cluster.OwnersOf(ContentHash.Compute(o.Data.Span), 1).Single() != asked.Id).Take(5).ToList();
        Assert.NotEmpty(small);

        var put = await Within(asked.Client.PutFileAsync(file, "fresh", "big.bin"));
        var smallPuts = await Within(asked.Client.PutSmallBatchAsync(small));

        var chunks = (await Within(asked.Client.StatAsync("fresh", "big.bin"))).Chunks;
        Assert.Contains(chunks, c => Cluster.OwnersOf(c.Id, 1).Single() != asked.Id); // the case this is about
        Assert.Equal(put.Object.Size, put.NewChunkBytes);
        Assert.All(smallPuts.Outcomes, o => Assert.Equal(4096, o.Done!.NewChunkBytes));

        // The same bytes again, through another node, under other keys: every chunk is already held.
        var again = await Within(Cluster.Nodes[1].Client.PutFileAsync(file, "fresh", "again.bin"));
        var smallAgain = await Within(Cluster.Nodes[1].Client.PutSmallBatchAsync(small.Select(o => o with { Key = o.Key + "-again" }).ToList()));
        Assert.Equal(0, again.NewChunkBytes);
        Assert.All(smallAgain.Outcomes, o => Assert.Equal(0, o.Done!.NewChunkBytes));
    }
}
