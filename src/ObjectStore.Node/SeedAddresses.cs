using System.Net;
using Akka.Actor;
using Akka.Configuration;
using ObjectStore.Actors;
using ObjectStore.Actors.Client;

namespace ObjectStore.Node;

/// <summary>
/// Seeds given by a name (localhost, a host name) become the host each seed answers to: Akka joins a
/// seed only under the exact host it advertises, and would otherwise retry a name it never answers to
/// for ever.
/// </summary>
internal static class SeedAddresses
{
    public static async Task<List<(string Host, int Port)>> ResolveAsync(Config clientConfig, StoreSettings settings,
        IReadOnlyList<(string Host, int Port)> seeds, string selfHost, int selfPort)
    {
        if (seeds.All(s => IPAddress.TryParse(s.Host, out _) || s.Host == selfHost)) return seeds.ToList();
        var system = ActorSystem.Create("objectstore-probe", clientConfig);
        try
        {
            var resolved = new List<(string Host, int Port)>();
            foreach (var (host, port) in seeds)
            {
                if (IPAddress.TryParse(host, out _) || host == selfHost)
                {
                    resolved.Add((host, port));
                    continue;
                }
                var candidates = await NodeAddress.CandidatesAsync(host);
                string answers;
                if (port == selfPort && candidates.Contains(selfHost, StringComparer.OrdinalIgnoreCase))
                    answers = selfHost; // this node itself, the first of its own seeds
                else
                {
                    try
                    {
                        answers = (await StoreClient.ConnectAsync(system, host, port, settings)).Host;
                    }
                    catch (StoreException)
                    {
                        // Not up yet: nodes advertise an IP address by default.
                        answers = candidates[0];
                    }
                }
                if (answers != host) Console.Out.WriteLine($"seed {host}:{port} is {answers}:{port}");
                resolved.Add((answers, port));
            }
            return resolved;
        }
        finally
        {
            await system.Terminate().WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { });
        }
    }
}
