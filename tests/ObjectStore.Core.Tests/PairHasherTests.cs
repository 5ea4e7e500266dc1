using FsCheck;
using FsCheck.Xunit;
using ObjectStore.Core.Hashing;

namespace ObjectStore.Core.Tests;

public class PairHasherTests
{
    [ShaNiFact]
    public void Two_buffers_hash_to_their_own_sha256_at_every_length_around_block_and_padding_edges()
    {
        var data = new byte[600];
        new System.Random(9).NextBytes(data);
        int[] lengths = [0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 191, 200, 300];
        foreach (var first in lengths)
        foreach (var second in lengths)
        {
            var a = data.AsSpan(0, first);
            var b = data.AsSpan(first, second);
            var (hashA, hashB) = PairHasher.Hash(ShaNiKernel.Instance!, a, b);
            Assert.True(ContentHash.Compute(a) == hashA, $"first of {first} and {second} bytes");
            Assert.True(ContentHash.Compute(b) == hashB, $"second of {first} and {second} bytes");
        }
    }

    [ShaNiFact]
    public void The_same_bytes_twice_give_the_same_hash_twice()
    {
        var data = new byte[1_300_000];
        new System.Random(3).NextBytes(data);
        var (a, b) = PairHasher.Hash(ShaNiKernel.Instance!, data, data);
        Assert.Equal(ContentHash.Compute(data), a);
        Assert.Equal(a, b);
    }

    [Property(MaxTest = 60)]
    public Property Any_two_buffers_give_their_own_sha256(PositiveInt seed, NonNegativeInt sizeA, NonNegativeInt sizeB)
    {
        if (ShaNiKernel.Instance is null) return true.ToProperty(); // nothing to compare on this CPU
        var random = new System.Random(seed.Get);
        var a = new byte[sizeA.Get % 5000];
        var b = new byte[sizeB.Get * 37 % 300_000];
        random.NextBytes(a);
        random.NextBytes(b);
        var (hashA, hashB) = PairHasher.Hash(ShaNiKernel.Instance, a, b);
        return (hashA == ContentHash.Compute(a) && hashB == ContentHash.Compute(b)).ToProperty();
    }
}
