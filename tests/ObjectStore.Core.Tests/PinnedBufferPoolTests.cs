using ObjectStore.Core.Chunking;

namespace ObjectStore.Core.Tests;

/// <summary>Alone, after the parallel tests: the pool is shared by the whole process, and these count what it keeps.</summary>
[CollectionDefinition(nameof(PinnedBufferPoolTests), DisableParallelization = true)]
public sealed class PinnedBufferPoolCollection;

[Collection(nameof(PinnedBufferPoolTests))]
public class PinnedBufferPoolTests
{
    private const int Size = 2 * 1024 * 1024;

    [Fact]
    public void Returned_arrays_are_kept_up_to_the_byte_budget_however_many_of_one_size_that_is()
    {
        var before = PinnedBufferPool.KeptBytes;
        // Empty what the pool holds of this size, so that every array below is new.
        var held = new List<byte[]>();
        while (PinnedBufferPool.KeptBytes > 0 && held.Count < 1000)
        {
            var kept = PinnedBufferPool.KeptBytes;
            held.Add(PinnedBufferPool.Rent(Size).Array);
            if (PinnedBufferPool.KeptBytes == kept) break; // nothing of this size was left
        }
        var room = PinnedBufferPool.MaxKeptBytes - PinnedBufferPool.KeptBytes;
        var arrays = Enumerable.Range(0, (int)(PinnedBufferPool.MaxKeptBytes / Size) + 8).Select(_ => PinnedBufferPool.Rent(Size).Array).ToList();

        foreach (var array in arrays) PinnedBufferPool.Return(array);

        var keptCount = (int)(room / Size);
        Assert.True(keptCount > 16, $"the test needs room for more than 16 arrays of 2 MiB, the pool holds {before} bytes of other sizes");
        // Full, short of less than one more array (the other sizes it holds need not add up to whole ones of this size).
        Assert.InRange(PinnedBufferPool.KeptBytes, PinnedBufferPool.MaxKeptBytes - Size + 1, PinnedBufferPool.MaxKeptBytes);
        var again = arrays.Select(_ => PinnedBufferPool.Rent(Size).Array).ToList();
        Assert.Equal(keptCount, again.Count(a => arrays.Any(b => ReferenceEquals(a, b))));
        foreach (var array in held.Concat(again)) PinnedBufferPool.Return(array);
    }
}
