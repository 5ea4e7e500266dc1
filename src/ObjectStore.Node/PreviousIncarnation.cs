using Akka.Actor;
using Akka.Configuration;
using ObjectStore.Actors;
using ObjectStore.Actors.Client;

namespace ObjectStore.Node;

/// <summary>
/// Before a node joins: if the cluster still lists a member at this node's address — its previous
/// incarnation, which stopped without leaving (kill -9, power loss) — wait until the cluster has
/// removed it (failure detector, then the split-brain resolver: about 30 s).
/// </summary>
/// <remarks>
/// Why: a new incarnation that joins while the old one is still a member makes the leader down and
/// quarantine the old one, and in Akka.NET 1.5.73 that quarantine can cut the leader off from the new
/// incarnation for good; the two then mark each other unreachable and the split-brain resolver downs
/// both (seen in CI: "DownIndirectlyConnected"). The question is asked from a separate, client-only
/// actor system on a port of its own, exactly as the shell asks `members`, so asking does not open an
/// association from this node's address while the old incarnation's is still in play.
/// </remarks>
internal static class PreviousIncarnation
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(2);

    /// <summary>Returns once no seed lists this address, no seed answers, or <paramref name="limit"/> has passed.</summary>
    public static async Task WaitUntilGoneAsync(Config clientConfig, StoreSettings settings, string selfHost, int selfPort,
        IReadOnlyList<(string Host, int Port)> seeds, TimeSpan limit, CancellationToken cancel)
    {
        var others = seeds.Where(s => s.Port != selfPort || !SameHost(s.Host, selfHost)).ToList();
        if (selfPort == 0 || others.Count == 0) return; // a fresh port cannot have an old incarnation; no one else to ask
        var self = $"@{selfHost}:{selfPort}";
        var system = ActorSystem.Create("objectstore-probe", clientConfig);
        try
        {
            var deadline = DateTime.UtcNow + limit;
            var waited = false;
            while (true)
            {
                var listing = await AskAnyAsync(system, others, settings);
                var old = listing?.Members.FirstOrDefault(m => m.Address.EndsWith(self, StringComparison.OrdinalIgnoreCase));
                if (old is null)
                {
                    // Removed, or no seed answers (then there is no cluster to collide with yet).
                    if (waited) Console.Out.WriteLine("the previous incarnation is gone; joining");
                    return;
                }
                if (!waited)
                {
                    Console.Out.WriteLine($"the cluster still lists this address ({old.Address}, {old.Status}): the node's previous run " +
                        $"stopped without leaving; waiting up to {limit.TotalSeconds:0}s for the cluster to remove it before joining");
                    Console.Out.Flush();
                    waited = true;
                }
                if (DateTime.UtcNow > deadline)
                {
                    Console.Error.WriteLine($"warning: {old.Address} is still listed ({old.Status}) after {limit.TotalSeconds:0}s; joining anyway");
                    return;
                }
                await Task.Delay(Poll, cancel);
            }
        }
        finally
        {
            await system.Terminate().WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { });
        }
    }

    private static async Task<Actors.Protocol.StoreProtocol.MemberListing?> AskAnyAsync(ActorSystem system, IEnumerable<(string Host, int Port)> seeds, StoreSettings settings)
    {
        foreach (var (host, port) in seeds)
        {
            try
            {
                var client = await StoreClient.ConnectAsync(system, host, port, settings);
                return await client.MembersAsync();
            }
            catch (StoreException)
            {
                // This seed is down or busy; ask the next.
            }
        }
        return null;
    }

    private static bool SameHost(string a, string b) =>
        string.Equals(a, b, StringComparison.OrdinalIgnoreCase) || (IsLoopback(a) && IsLoopback(b));

    private static bool IsLoopback(string host) => host is "127.0.0.1" or "localhost" or "::1";
}
