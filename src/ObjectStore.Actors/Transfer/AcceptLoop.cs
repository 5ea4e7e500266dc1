using System.Net.Sockets;
using Akka.Event;

namespace ObjectStore.Actors.Transfer;

/// <summary>
/// A listener's accept loop that serves at most so many connections at once (the command host's and the local
/// link's): one more goes to <c>refuse</c>. A failed accept is logged and the loop goes on; it ends when
/// <c>stop</c> is cancelled.
/// </summary>
internal static class AcceptLoop
{
    /// <param name="serve">Starts serving a connection and calls the action it is given once that connection ends;
    /// false when it could not (the actor system is ending): the loop ends.</param>
    /// <param name="name">The listener in the log: "command host", "client link".</param>
    public static async Task RunAsync<T>(Func<CancellationToken, ValueTask<T>> accept, int maxOpen, Func<T, Action, bool> serve,
        Action<T> refuse, ILoggingAdapter log, string name, CancellationToken stop)
    {
        var open = 0;
        while (!stop.IsCancellationRequested)
        {
            T client;
            try
            {
                client = await accept(stop);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (stop.IsCancellationRequested) return;
                log.Warning("{0}: accept failed: {1}", name, e.Message);
                continue;
            }
            if (Interlocked.Increment(ref open) > maxOpen)
            {
                Interlocked.Decrement(ref open);
                refuse(client);
                continue;
            }
            if (!serve(client, () => Interlocked.Decrement(ref open))) return;
        }
    }
}
