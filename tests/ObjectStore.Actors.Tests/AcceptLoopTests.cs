using System.Net.Sockets;
using System.Threading.Channels;
using Akka.Event;
using ObjectStore.Actors.Transfer;

namespace ObjectStore.Actors.Tests;

/// <summary>The accept loop the command host and the local link share: its cap, a failed accept, its end.</summary>
public class AcceptLoopTests
{
    /// <summary>Connections as numbers; a negative one is an accept that fails.</summary>
    private readonly Channel<int> _incoming = Channel.CreateUnbounded<int>();
    private readonly List<(int Client, Action Closed)> _served = [];
    private readonly List<int> _refused = [];

    private async ValueTask<int> Accept(CancellationToken stop)
    {
        var next = await _incoming.Reader.ReadAsync(stop);
        return next >= 0 ? next : throw new SocketException((int)SocketError.ConnectionAborted);
    }

    private Task Run(int maxOpen, CancellationToken stop, bool serves = true) =>
        AcceptLoop.RunAsync(Accept, maxOpen, (client, closed) =>
        {
            lock (_served) _served.Add((client, closed));
            return serves;
        }, client => { lock (_refused) _refused.Add(client); }, NoLogger.Instance, "test", stop);

    private void Arrive(params int[] clients)
    {
        foreach (var client in clients) _incoming.Writer.TryWrite(client);
    }

    /// <summary>Waits (bounded) until the loop has dealt with every connection so far: it then waits for the next.</summary>
    private async Task DealtWith(int served, int refused)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            lock (_served) lock (_refused) if (_served.Count == served && _refused.Count == refused) return;
            await Task.Delay(10);
        }
        Assert.Fail($"served {_served.Count} (expected {served}), refused {_refused.Count} (expected {refused})");
    }

    [Fact]
    public async Task It_serves_up_to_its_cap_refuses_one_more_until_one_closes_goes_on_after_a_failed_accept_and_ends_when_stopped()
    {
        using var stop = new CancellationTokenSource();
        var loop = Run(2, stop.Token);

        Arrive(1, -1, 2, 3);
        await DealtWith(served: 2, refused: 1);
        Assert.Equal([1, 2], _served.Select(s => s.Client));
        Assert.Equal([3], _refused);

        _served[0].Closed();
        Arrive(4, 5);
        await DealtWith(served: 3, refused: 2);
        Assert.Equal(4, _served[2].Client);
        Assert.Equal([3, 5], _refused);

        stop.Cancel();
        await loop.WaitAsync(TimeSpan.FromSeconds(10));
        Arrive(6);
        Assert.Equal(3, _served.Count);
    }

    [Fact]
    public async Task A_connection_that_cannot_be_served_ends_the_loop()
    {
        var loop = Run(2, CancellationToken.None, serves: false);

        Arrive(1, 2);
        await loop.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([1], _served.Select(s => s.Client));
        Assert.True(_incoming.Reader.TryRead(out var next) && next == 2, "the loop took a connection after it could not serve one");
    }
}
