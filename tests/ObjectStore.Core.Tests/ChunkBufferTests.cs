using System.Runtime.InteropServices;
using ObjectStore.Core.Chunking;

namespace ObjectStore.Core.Tests;

public class ChunkBufferTests
{
    /// <summary>A size class (32 MiB arrays) no other test rents, so no test running in parallel takes the array from the pool in between.</summary>
    private const int Capacity = 20 * 1024 * 1024;

    private static byte[] ArrayOf(ChunkBuffer buffer) =>
        MemoryMarshal.TryGetArray(buffer.Memory, out var segment) ? segment.Array! : throw new InvalidOperationException();

    [Fact]
    public void The_array_goes_back_to_the_pool_with_the_last_reference_and_the_release_is_told_once()
    {
        var released = 0;
        var first = ChunkBuffer.Rent(Capacity);
        first.WhenReleased(() => released++);
        var array = ArrayOf(first);
        var second = first.Retain();
        first.Dispose();
        Assert.Equal(0, released);
        second.Dispose();
        Assert.Equal(1, released);
        using var next = ChunkBuffer.Rent(Capacity);
        Assert.Same(array, ArrayOf(next));
    }

    [Fact]
    public void An_abandoned_buffer_is_released_but_its_array_is_never_reused()
    {
        var released = 0;
        var buffer = ChunkBuffer.Rent(Capacity);
        buffer.WhenReleased(() => released++);
        var array = ArrayOf(buffer);
        var other = buffer.Retain();
        buffer.Abandon();
        other.Dispose();
        Assert.Equal(1, released);
        for (var i = 0; i < 20; i++)
        {
            using var next = ChunkBuffer.Rent(Capacity);
            Assert.NotSame(array, ArrayOf(next));
        }
    }
}
