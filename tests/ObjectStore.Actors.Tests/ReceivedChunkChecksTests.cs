using ObjectStore.Actors.Replication;
using ObjectStore.Core.Chunking;
using ObjectStore.Core.Hashing;
using Xunit;

namespace ObjectStore.Actors.Tests;

/// <summary>
/// Bodies from other nodes are checked against their ids two at a time when two are waiting: each check still
/// gets its own answer, whatever it was paired with, and holds the bytes until it is done.
/// </summary>
public class ReceivedChunkChecksTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    public static TheoryData<bool> Kernels => new() { true, false };

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(Kernels))]
    public async Task Checks_in_a_burst_each_answer_for_their_own_body(bool shaNi)
    {
        var kernel = shaNi ? ShaNiKernel.Instance : null;
        // Lengths around the 64-byte block and the pooled buffers' alignment; every third body damaged, so most
        // pairs hold one good and one damaged body and an answer given to the wrong one shows.
        var bodies = Enumerable.Range(0, 60).Select(i =>
        {
            var data = new byte[i % 4 == 0 ? 130_000 + i * 64 : 1 + i * 977];
            new Random(i).NextBytes(data);
            var id = ContentHash.Compute(data);
            var damaged = i % 3 == 1;
            if (damaged) data[i % data.Length] ^= 0x40;
            return (Body: ChunkBuffer.CopyOf(data), Id: id, Damaged: damaged);
        }).ToList();

        var checks = bodies.Select(b => ReceivedChunkChecks.MatchesAsync(b.Body, b.Id, kernel)).ToList();
        var answers = await Task.WhenAll(checks).WaitAsync(Bound);

        for (var i = 0; i < bodies.Count; i++) Assert.Equal(!bodies[i].Damaged, answers[i]);
        foreach (var b in bodies) b.Body.Dispose();
    }

    [Theory(Timeout = 30_000)]
    [MemberData(nameof(Kernels))]
    public async Task A_check_keeps_the_bytes_when_its_caller_lets_go_of_them(bool shaNi)
    {
        var kernel = shaNi ? ShaNiKernel.Instance : null;
        var checks = new List<Task<bool>>();
        for (var i = 0; i < 40; i++)
        {
            var data = new byte[256 * 1024];
            new Random(i).NextBytes(data);
            var body = ChunkBuffer.CopyOf(data);
            checks.Add(ReceivedChunkChecks.MatchesAsync(body, ContentHash.Compute(data), kernel));
            // The caller (an actor that stopped) drops its reference at once; buffers rented now would get its
            // array back from the pool, and scribble on it, if the check had not kept a reference of its own.
            body.Dispose();
            using var other = ChunkBuffer.Rent(256 * 1024);
            other.Append(new byte[256 * 1024]);
        }
        Assert.All(await Task.WhenAll(checks).WaitAsync(Bound), Assert.True);
    }
}
