using ObjectStore.Core.Hashing;
using ObjectStore.Core.Placement;

namespace ObjectStore.Core.Tests;

public class PlacementTests
{
    private static readonly ContentHash[] Chunks = Enumerable.Range(0, 20_000).Select(i => ContentHash.Compute(BitConverter.GetBytes(i))).ToArray();
    private static string[] Nodes(int n) => Enumerable.Range(1, n).Select(i => $"node-{i:D2}").ToArray();

    [Fact]
    public void Every_node_computes_the_same_owners_whatever_order_it_learned_the_members_in()
    {
        var a = new RendezvousPlacement(Nodes(5));
        var b = new RendezvousPlacement(Nodes(5).Reverse());
        Assert.All(Chunks.Take(500), c => Assert.Equal(a.OwnersOf(c, 3), b.OwnersOf(c, 3)));
        Assert.Equal(a.OwnersOf("photos", "x.jpg", 3), b.OwnersOf("photos", "x.jpg", 3));
    }

    [Fact]
    public void Owners_are_distinct_and_fewer_nodes_than_the_factor_means_every_node()
    {
        var placement = new RendezvousPlacement(Nodes(2));
        var owners = placement.OwnersOf(Chunks[0], 3);
        Assert.Equal(2, owners.Count);
        Assert.Equal(Nodes(2).Order(), owners.Order());
        Assert.Empty(new RendezvousPlacement([]).OwnersOf(Chunks[0], 3));
    }

    [Fact]
    public void Load_is_spread_evenly()
    {
        var placement = new RendezvousPlacement(Nodes(6));
        var counts = Chunks.SelectMany(c => placement.OwnersOf(c, 3)).GroupBy(n => n).ToDictionary(g => g.Key, g => g.Count());
        var expected = Chunks.Length * 3 / 6.0;
        Assert.All(counts.Values, count => Assert.InRange(count, expected * 0.93, expected * 1.07));
    }

    [Fact]
    public void A_joining_node_takes_about_a_share_and_nothing_else_moves()
    {
        var before = new RendezvousPlacement(Nodes(5));
        var after = new RendezvousPlacement(Nodes(6));
        var moved = 0;
        foreach (var chunk in Chunks)
        {
            var old = before.OwnersOf(chunk, 3).ToHashSet();
            var now = after.OwnersOf(chunk, 3).ToHashSet();
            // Any change is the new node replacing one old owner; no chunk moves between old nodes.
            if (old.SetEquals(now)) continue;
            moved++;
            Assert.Contains("node-06", now);
            Assert.Equal(2, old.Intersect(now).Count());
        }
        // Expected share: the new node is in the top 3 of 6 for half the chunks.
        Assert.InRange(moved, Chunks.Length * 0.46, Chunks.Length * 0.54);
    }

    [Fact]
    public void A_leaving_node_hands_its_chunks_to_the_next_in_each_list()
    {
        var before = new RendezvousPlacement(Nodes(6));
        var after = new RendezvousPlacement(Nodes(6).Where(n => n != "node-03"));
        foreach (var chunk in Chunks.Take(2000))
        {
            var full = before.OwnersOf(chunk);
            Assert.Equal(full.Where(n => n != "node-03").Take(3), after.OwnersOf(chunk, 3));
        }
    }

    [Fact]
    public void A_last_resort_node_is_not_a_target_but_takes_a_failed_write_when_nothing_else_can()
    {
        // Three nodes, factor 3, quorum 2: C was slow earlier in the put; B's disk fails.
        var placement = new ChunkPlacement([new Candidate("A", true), new Candidate("B", true), new Candidate("C", true, LastResort: true)], 3, 2);

        Assert.Equal(["A", "B"], placement.Targets);
        placement.Stored("A");
        Assert.Equal("C", placement.Failed("B", "disk error"));
        placement.Stored("C");
        Assert.True(placement.QuorumMet);
        Assert.Equal(["A", "C"], placement.Holders);
    }
}
