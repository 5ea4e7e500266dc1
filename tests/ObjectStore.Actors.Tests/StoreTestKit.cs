using Akka.Actor;
using Akka.Configuration;
using ObjectStore.Actors.Client;
using ObjectStore.Core.Chunking;
using ObjectStore.Core.Storage;

namespace ObjectStore.Actors.Tests;

/// <summary>
/// A TestKit on the real akka.hocon with every message serialized (a message without a binary
/// serializer fails here, not in production), loopback remoting on a free port, and a data directory
/// removed after the test.
/// </summary>
public abstract class StoreTestKit : Akka.TestKit.Xunit2.TestKit
{
    public static Config TestConfig { get; } = ConfigurationFactory.ParseString("""
        akka.actor.serialize-messages = on
        akka.actor.provider = remote
        akka.remote.dot-netty.tcp.port = 0
        akka.loglevel = WARNING
        akka.stdout-loglevel = WARNING
        akka.loggers = ["ObjectStore.Actors.Tests.TestLog, ObjectStore.Actors.Tests"]
        akka.coordinated-shutdown.run-by-default-clr-shutdown-hook = off
        # A test node is a store of one (TestCluster sets the factor of its clusters).
        objectstore.replication.factor = 1
        objectstore.replication.write-quorum = 1
        """).WithFallback(StoreConfig.Defaults);

    protected StoreTestKit() : base(TestConfig, "objectstore")
    {
        DataDirectory = Path.Combine(Path.GetTempPath(), "objectstore-actor-tests", Guid.NewGuid().ToString("N"));
        WorkDirectory = Path.Combine(DataDirectory + "-work");
        Directory.CreateDirectory(WorkDirectory);
        Settings = StoreSettings.FromConfig(TestConfig) with
        {
            DataDirectory = DataDirectory,
            IdleTimeout = TimeSpan.FromSeconds(10),
            RequestTimeout = TimeSpan.FromSeconds(10),
            StorageRestartMinBackoff = TimeSpan.FromMilliseconds(100),
            StorageRestartMaxBackoff = TimeSpan.FromMilliseconds(500),
            Chunking = SmallChunks,
        };
    }

    /// <summary>FastCDC at a sixteenth of the real sizes, so a test file of a few hundred KiB makes several chunks.</summary>
    public static ChunkerOptions SmallChunks { get; } =
        StoreSettings.Default.Chunking with { MinSize = 16 * 1024, AverageSize = 64 * 1024, MaxSize = 256 * 1024 };

    protected string DataDirectory { get; }
    protected string WorkDirectory { get; }
    protected StoreSettings Settings { get; set; }
    /// <summary>The node <see cref="StartNode"/> started last.</summary>
    protected StoreNode.Handles? Node { get; private set; }

    protected StoreClient StartNode(IStorageFaults? faults = null)
    {
        var handles = Node = StoreNode.Start(Sys, Settings, faults);
        return new StoreClient(Sys, handles.Coordinator, Settings);
    }

    protected string WriteRandomFile(string name, int size, int seed)
    {
        var path = Path.Combine(WorkDirectory, name);
        File.WriteAllBytes(path, RandomBytes(size, seed));
        return path;
    }

    /// <summary>The same bytes for the same seed.</summary>
    protected static byte[] RandomBytes(int size, int seed)
    {
        var data = new byte[size];
        new Random(seed).NextBytes(data);
        return data;
    }

    protected string[] ChunkFiles() =>
        Directory.Exists(Path.Combine(DataDirectory, "chunks"))
            ? Directory.GetFiles(Path.Combine(DataDirectory, "chunks"), "*", SearchOption.AllDirectories)
            : [];

    protected static async Task<T> Within<T>(Task<T> task, int seconds = 30) => await task.WaitAsync(TimeSpan.FromSeconds(seconds));

    protected override void AfterAll()
    {
        base.AfterAll();
        // The TestKit does not wait for the end of the system's shutdown, which can outlast the test; a
        // storage actor still starting then (a keeper opening index.db) found its directory half deleted
        // ("disk I/O error" in CI logs). The directories go once the system has ended (at most 30 s on);
        // the test does not wait for that.
        var directories = new[] { DataDirectory, WorkDirectory };
        _ = Sys.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(_ =>
        {
            foreach (var dir in directories)
            {
                try { Directory.Delete(dir, recursive: true); }
                catch (IOException) { }
            }
        }, TaskScheduler.Default);
    }
}
