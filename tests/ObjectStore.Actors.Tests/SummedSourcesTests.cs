using ObjectStore.Actors.Metrics;
using Xunit;

namespace ObjectStore.Actors.Tests;

/// <summary>A gauge summed from sources that come and go (a restarted actor, a stopped node).</summary>
public class SummedSourcesTests
{
    [Fact]
    public void A_source_counts_until_its_registration_is_disposed_and_only_once()
    {
        var gauge = new SummedSources();
        long before = 7, after = 3;
        var first = gauge.Add(() => before); // an actor's first life
        Assert.Equal(7, gauge.Sum());

        first.Dispose(); // it stopped; its restart registers its own count
        using var second = gauge.Add(() => after);
        Assert.Equal(3, gauge.Sum());

        first.Dispose(); // disposing twice removes nothing else
        Assert.Equal(3, gauge.Sum());
    }

    [Fact]
    public void The_same_source_registered_twice_counts_twice_until_each_registration_goes()
    {
        var gauge = new SummedSources();
        Func<long> node = () => 5; // two nodes of one process reading the same kind of count
        var a = gauge.Add(node);
        var b = gauge.Add(node);
        Assert.Equal(10, gauge.Sum());
        a.Dispose();
        Assert.Equal(5, gauge.Sum());
        b.Dispose();
        Assert.Equal(0, gauge.Sum());
    }
}
