namespace ObjectStore.Actors.Tests;

/// <summary>
/// For tests that start a <see cref="TestCluster"/> of their own besides the kit's actor system: a fresh root
/// directory per test, and the cluster stopped (its directory removed) when the test ends, even when it fails.
/// </summary>
public abstract class ClusterTestKit : StoreTestKit, IAsyncLifetime
{
    protected ClusterTestKit() =>
        ClusterRoot = Path.Combine(Path.GetTempPath(), "objectstore-cluster-tests", GetType().Name, Guid.NewGuid().ToString("N"));

    protected string ClusterRoot { get; }

    /// <summary>The test's cluster, once it made one (<c>new TestCluster(ClusterRoot, ...)</c>).</summary>
    protected TestCluster Cluster { get; set; } = null!;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (Cluster is not null) await Cluster.DisposeAsync();
    }
}
