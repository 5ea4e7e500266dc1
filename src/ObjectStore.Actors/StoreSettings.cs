using Akka.Configuration;
using ObjectStore.Core.Chunking;

namespace ObjectStore.Actors;

/// <summary>
/// The <c>objectstore</c> section of the configuration, read once at start. Every default and its reason
/// live in akka.hocon (embedded, <see cref="StoreConfig"/>); this class only names and checks them.
/// </summary>
public sealed record StoreSettings
{
    private StoreSettings() { }

    public string DataDirectory { get; init; } = "";
    /// <summary>fsync every chunk and index commit before acknowledging a put.</summary>
    public bool Fsync { get; init; }
    public ChunkerOptions Chunking { get; init; } = null!;
    /// <summary>Bytes of file data per network message; Akka.Remote's frame is 128000 bytes.</summary>
    public int FrameSize { get; init; }
    /// <summary>Frames sent and not yet acknowledged, per transfer.</summary>
    public int Window { get; init; }
    /// <summary>Take put data on a separate TCP port (the data plane) rather than as Akka.Remote frames.</summary>
    public bool DataPlane { get; init; }
    /// <summary>The data plane's port; 0 picks a free one (it is announced to each client).</summary>
    public int DataPort { get; init; }
    /// <summary>Clients on this machine hand over the open file instead of sending its bytes (Linux).</summary>
    public bool LocalHandOver { get; init; }
    /// <summary>Shell scripts on this machine send their requests over a local socket instead of Akka.Remote (Linux; objectstore.transfer.local-link).</summary>
    public bool LocalLink { get; init; }
    /// <summary>Chunks of one upload held in memory (cut, not yet in a temp file); the chunker stops taking bytes beyond it.</summary>
    public int ChunksInFlight { get; init; }
    /// <summary>Chunks of one upload written but not yet made durable by a group commit; a second bound on the chunker.</summary>
    public int ChunksAwaitingCommit { get; init; }
    /// <summary>Chunk files written at once on the storage threads.</summary>
    public int IoParallelism { get; init; }
    /// <summary>Chunk files read at once on the chunk reader's threads, and the chunks a get reads ahead (objectstore.storage.read-parallelism).</summary>
    public int ReadParallelism { get; init; }
    /// <summary>Write chunk files with O_DIRECT (Linux), past the page cache; falls back where the file system refuses it.</summary>
    public bool DirectIo { get; init; }
    /// <summary>Chunks read for gets and fetches with O_DIRECT instead of through the page cache (objectstore.storage.direct-reads).</summary>
    public bool DirectReads { get; init; }
    /// <summary>A transfer with no progress for this long is abandoned by both ends.</summary>
    public TimeSpan IdleTimeout { get; init; }
    /// <summary>The most a shell reads from stdin or a FIFO for one put (it is spooled to a temp file first).</summary>
    public long StreamInputLimit { get; init; }
    /// <summary>How long a short request (ls, stat, rm) may take.</summary>
    public TimeSpan RequestTimeout { get; init; }
    public TimeSpan StorageRestartMinBackoff { get; init; }
    public TimeSpan StorageRestartMaxBackoff { get; init; }
    public ReplicationSettings Replication { get; init; } = null!;
    public RepairSettings Repair { get; init; } = null!;

    public const int MaxFrameSize = 120 * 1024;

    /// <summary>The settings akka.hocon gives, with nothing layered on top.</summary>
    public static StoreSettings Default { get; } = FromConfig(ConfigurationFactory.Empty);

    /// <summary>Reads the <c>objectstore</c> keys of <paramref name="root"/> (over the embedded defaults) and checks them.</summary>
    public static StoreSettings FromConfig(Config root)
    {
        var c = new SettingsReader(root);
        var algorithm = c.String("objectstore.chunking.algorithm").ToLowerInvariant() switch
        {
            "fastcdc" => ChunkingAlgorithm.FastCdc,
            "fixed" => ChunkingAlgorithm.Fixed,
            var other => throw new ConfigurationException($"objectstore.chunking.algorithm must be 'fastcdc' or 'fixed', got '{other}'"),
        };
        var settings = new StoreSettings
        {
            DataDirectory = c.String("objectstore.data-dir"),
            Fsync = c.Bool("objectstore.fsync"),
            Chunking = new ChunkerOptions
            {
                Algorithm = algorithm,
                MinSize = c.Bytes("objectstore.chunking.min-size"),
                AverageSize = c.Bytes("objectstore.chunking.avg-size"),
                MaxSize = c.Bytes("objectstore.chunking.max-size"),
                FixedSize = c.Bytes("objectstore.chunking.fixed-size"),
                ShaNi = c.Bool("objectstore.chunking.sha-ni"),
            },
            FrameSize = c.Bytes("objectstore.transfer.frame-size"),
            Window = c.Int("objectstore.transfer.window"),
            DataPlane = c.Bool("objectstore.transfer.data-plane"),
            DataPort = c.Int("objectstore.transfer.data-port"),
            LocalHandOver = c.Bool("objectstore.transfer.local-hand-over"),
            LocalLink = c.Bool("objectstore.transfer.local-link"),
            IdleTimeout = c.Duration("objectstore.transfer.idle-timeout"),
            StreamInputLimit = c.LongBytes("objectstore.transfer.stream-input-limit"),
            RequestTimeout = c.Duration("objectstore.request-timeout"),
            ChunksInFlight = c.Int("objectstore.storage.chunks-in-flight"),
            ChunksAwaitingCommit = c.Int("objectstore.storage.chunks-awaiting-commit"),
            IoParallelism = c.Int("objectstore.storage.io-parallelism"),
            ReadParallelism = c.Int("objectstore.storage.read-parallelism"),
            DirectIo = c.Bool("objectstore.storage.direct-io"),
            DirectReads = c.Bool("objectstore.storage.direct-reads"),
            StorageRestartMinBackoff = c.Duration("objectstore.storage.restart-backoff.min"),
            StorageRestartMaxBackoff = c.Duration("objectstore.storage.restart-backoff.max"),
            Replication = ReplicationSettings.Read(c),
            Repair = RepairSettings.Read(c),
        };
        settings.Validate();
        return settings;
    }

    public void Validate()
    {
        try
        {
            Chunking.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ConfigurationException($"objectstore.{e.Message}");
        }
        if (DataDirectory.Length == 0) throw new ConfigurationException("objectstore.data-dir must not be empty");
        if (FrameSize is < 1024 or > MaxFrameSize)
            throw new ConfigurationException($"objectstore.transfer.frame-size must be 1 KiB..120 KiB (Akka.Remote frames are 128000 bytes), got {FrameSize}");
        if (Window < 1) throw new ConfigurationException($"objectstore.transfer.window must be at least 1, got {Window}");
        if (ChunksInFlight < 1) throw new ConfigurationException($"objectstore.storage.chunks-in-flight must be at least 1, got {ChunksInFlight}");
        if (IoParallelism < 1) throw new ConfigurationException($"objectstore.storage.io-parallelism must be at least 1, got {IoParallelism}");
        if (ReadParallelism is < 1 or > 256)
            throw new ConfigurationException($"objectstore.storage.read-parallelism must be 1..256, got {ReadParallelism}");
        if (StreamInputLimit <= 0) throw new ConfigurationException($"objectstore.transfer.stream-input-limit must be positive, got {StreamInputLimit}");
        if (IdleTimeout <= TimeSpan.Zero) throw new ConfigurationException($"objectstore.transfer.idle-timeout must be positive, got {IdleTimeout}");
        if (RequestTimeout <= TimeSpan.Zero) throw new ConfigurationException($"objectstore.request-timeout must be positive, got {RequestTimeout}");
        Replication.Validate();
        Repair.Validate();
    }
}
