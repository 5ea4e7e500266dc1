using ObjectStore.Core.Sync;

namespace ObjectStore.Core.Tests;

public class DigestExchangeTests
{
    private static ulong[] RandomItems(int count, int seed)
    {
        var random = new Random(seed);
        var items = new ulong[count];
        for (var i = 0; i < count; i++) items[i] = (ulong)random.NextInt64() ^ ((ulong)random.Next() << 63);
        return items;
    }

    /// <summary>Runs an exchange to its end; counts what crossed the wire at its encoded size (a digest: range 9 bytes + count 8 + hash 8; an item 8).</summary>
    private static (DigestExchange Exchange, long Bytes) Run(DigestTree asker, DigestTree responder)
    {
        var exchange = new DigestExchange(asker);
        long bytes = 0;
        for (var guard = 0; !exchange.Done; guard++)
        {
            Assert.True(guard < 40, "the exchange should end");
            var request = exchange.NextRequest(128);
            bytes += request.Count * 25L;
            var answers = DigestExchange.Answer(responder, request);
            bytes += answers.Sum(a => 9 + (a.Children?.Count ?? 0) * 25L + (a.Items?.Count ?? 0) * 8L);
            exchange.Take(answers);
        }
        return (exchange, bytes);
    }

    [Fact]
    public void Two_nodes_in_sync_with_100000_items_confirm_it_in_one_round_of_a_few_bytes()
    {
        var items = RandomItems(100_000, 1);
        var (exchange, bytes) = Run(new DigestTree(items), new DigestTree(items.Reverse()));

        Assert.Equal(1, exchange.Rounds);
        Assert.Empty(exchange.PeerLacks);
        Assert.True(bytes < 100 * 1024, $"{bytes} bytes");
        Assert.Equal(25, bytes);
    }

    [Fact]
    public void One_missing_item_among_100000_is_found_in_a_logarithmic_number_of_rounds()
    {
        var items = RandomItems(100_000, 2);
        var missing = items[12_345];
        var (exchange, bytes) = Run(new DigestTree(items), new DigestTree(items.Where(i => i != missing)));

        Assert.Equal([missing], exchange.PeerLacks);
        // 100,000 items / 16 per level reach a leaf's worth (64) at depth 3: the root, three levels of children, then the items.
        var expectedRounds = (int)Math.Ceiling(Math.Log(100_000.0 / DigestExchange.LeafSize, HashRange.Fanout)) + 1;
        Assert.InRange(exchange.Rounds, 2, expectedRounds);
        Assert.True(bytes < 4 * 1024, $"{bytes} bytes for one missing item");
    }

    [Fact]
    public void Differences_both_ways_are_found_exactly_on_the_asking_side()
    {
        var shared = RandomItems(20_000, 3);
        var onlyMine = RandomItems(300, 4);
        var onlyTheirs = RandomItems(200, 5);
        var (exchange, _) = Run(new DigestTree(shared.Concat(onlyMine)), new DigestTree(shared.Concat(onlyTheirs)));

        Assert.Equal(onlyMine.Order(), exchange.PeerLacks.Order());
        Assert.Subset(onlyTheirs.ToHashSet(), exchange.SelfLacks.ToHashSet());
        var (reverse, _) = Run(new DigestTree(shared.Concat(onlyTheirs)), new DigestTree(shared.Concat(onlyMine)));
        Assert.Equal(onlyTheirs.Order(), reverse.PeerLacks.Order());
    }

    [Fact]
    public void A_peer_with_nothing_gets_everything_without_descending_and_an_empty_asker_learns_it_lacks_nothing_to_send()
    {
        var items = RandomItems(5_000, 6);
        var (toEmpty, _) = Run(new DigestTree(items), new DigestTree([]));
        Assert.Equal(items.Order(), toEmpty.PeerLacks.Order());
        var (fromEmpty, _) = Run(new DigestTree([]), new DigestTree(items));
        Assert.Empty(fromEmpty.PeerLacks);
    }

    [Fact]
    public void Range_digests_add_up_and_do_not_depend_on_order()
    {
        var items = RandomItems(1_000, 7);
        var tree = new DigestTree(items);
        var root = tree.Digest(HashRange.Root);
        Assert.Equal(1_000, root.Count);
        Assert.Equal(root.Count, HashRange.Root.Children().Sum(c => tree.Digest(c).Count));
        Assert.Equal(root.Hash, HashRange.Root.Children().Aggregate(0UL, (sum, c) => unchecked(sum + tree.Digest(c).Hash)));
        Assert.Equal(root, new DigestTree(items.Reverse()).Digest(HashRange.Root));
        Assert.NotEqual(root.Hash, new DigestTree(items.Skip(1)).Digest(HashRange.Root).Hash);
    }
}
