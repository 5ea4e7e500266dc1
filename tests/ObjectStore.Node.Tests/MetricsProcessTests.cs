using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace ObjectStore.Node.Tests;

/// <summary>The Prometheus endpoint and the health checks of a real node.</summary>
[Collection(NodeClusters.Name)]
public class MetricsProcessTests : IDisposable
{
    private readonly TestFiles _files = new();
    private readonly List<ObjectStoreProcess.NodeProcess> _nodes = [];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public void Dispose()
    {
        foreach (var node in _nodes) node.Dispose();
        _http.Dispose();
        _files.Dispose();
    }

    private async Task<(HttpStatusCode Status, string Body)> GetAsync(int port, string path)
    {
        using var response = await _http.GetAsync($"http://127.0.0.1:{port}{path}");
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The value of an unlabelled (or the first matching) sample of a metric, 0 when it has none yet.</summary>
    private static double Sample(string metrics, string name) =>
        metrics.Split('\n').Where(l => l.StartsWith(name + " ", StringComparison.Ordinal) || l.StartsWith(name + "{", StringComparison.Ordinal))
            .Select(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture)).DefaultIfEmpty(0).Sum();

    [Fact]
    public async Task Ready_only_once_the_node_joins_and_the_byte_and_put_counters_move_during_a_put()
    {
        var seedPort = ObjectStoreProcess.FreePort();
        var metricsPort = ObjectStoreProcess.FreePort();
        var config = _files.PathOf("metrics.conf");
        File.WriteAllText(config, $"objectstore.metrics.port = {metricsPort}\nobjectstore.replication.factor = 2\nobjectstore.replication.write-quorum = 2\n");
        // The member starts before its seed: alive, not ready.
        var member = await ObjectStoreProcess.NodeProcess.StartAsync(_files.PathOf("member"), new Dictionary<string, string>(), config, 0, 0,
            $"127.0.0.1:{seedPort}");
        _nodes.Add(member);

        Assert.Equal(HttpStatusCode.OK, (await GetAsync(metricsPort, "/alive")).Status);
        var notReady = await GetAsync(metricsPort, "/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.Status);
        Assert.Contains("not a member of a cluster yet", notReady.Body);

        _nodes.Add(await ObjectStoreProcess.NodeProcess.StartAsync(_files.PathOf("seed"), new Dictionary<string, string>(), null, seedPort, 0,
            $"127.0.0.1:{seedPort}"));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        var ready = notReady;
        while (ready.Status != HttpStatusCode.OK && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
            ready = await GetAsync(metricsPort, "/ready");
        }
        Assert.Equal(HttpStatusCode.OK, ready.Status);

        var before = (await GetAsync(metricsPort, "/metrics")).Body;
        var file = _files.RandomFile("big.bin", 64L * 1024 * 1024, 3);
        using var shell = Process.Start(ObjectStoreProcess.StartInfo("shell", "--node", $"127.0.0.1:{member.Port}", "-c", $"put '{file}' metered/big.bin"))!;
        var seen = new List<double>();
        while (!shell.HasExited) seen.Add(Sample((await GetAsync(metricsPort, "/metrics")).Body, "objectstore_bytes_in"));
        Assert.True(shell.WaitForExit(120_000) && shell.ExitCode == 0, await shell.StandardError.ReadToEndAsync());
        var after = (await GetAsync(metricsPort, "/metrics")).Body;

        Assert.Equal(Sample(before, "objectstore_bytes_in") + 64 * 1024 * 1024, Sample(after, "objectstore_bytes_in"));
        Assert.Equal(Sample(before, "objectstore_puts") + 1, Sample(after, "objectstore_puts"));
        Assert.True(Sample(after, "objectstore_put_duration_count") >= 1);
        Assert.True(seen.Zip(seen.Skip(1)).All(p => p.First <= p.Second), "the byte counter went backwards: " + string.Join(",", seen));
        Assert.Contains("# TYPE objectstore_chunks_stored", after);
    }
}
