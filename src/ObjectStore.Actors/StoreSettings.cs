using Akka.Configuration;
using ObjectStore.Core.Chunking;

namespace ObjectStore.Actors;

/// <summary>The <c>objectstore</c> section of akka.hocon, read once at start.</summary>
public sealed record StoreSettings
{
    public string DataDirectory { get; init; } = "./data";
    /// <summary>fsync every chunk and index commit. On by default; off only for throwaway test data.</summary>
    public bool Fsync { get; init; } = true;
    public ChunkerOptions Chunking { get; init; } = new();
    /// <summary>Bytes of file data per network message; Akka.Remote's frame is 128000 bytes.</summary>
    public int FrameSize { get; init; } = 64 * 1024;
    /// <summary>Frames sent and not yet acknowledged, per transfer.</summary>
    public int Window { get; init; } = 32;
    /// <summary>Take put data on a separate TCP port (the data plane) rather than as Akka.Remote frames.</summary>
    public bool DataPlane { get; init; } = true;
    /// <summary>The data plane's port; 0 picks a free one (it is announced to each client).</summary>
    public int DataPort { get; init; }
    /// <summary>Clients on this machine hand over the open file instead of sending its bytes (Linux).</summary>
    public bool LocalHandOver { get; init; } = true;
    /// <summary>Chunks of one upload held in memory (cut, not yet in a temp file); the chunker stops taking bytes beyond it.</summary>
    public int ChunksInFlight { get; init; } = 16;
    /// <summary>Chunks of one upload written but not yet made durable by a group commit; a second bound on the chunker.</summary>
    public int ChunksAwaitingCommit { get; init; } = 128;
    /// <summary>Chunk files written (or read) at once by the storage actor's I/O tasks.</summary>
    public int IoParallelism { get; init; } = 8;
    /// <summary>Write chunk files with O_DIRECT (Linux), past the page cache; falls back where the file system refuses it.</summary>
    public bool DirectIo { get; init; } = true;
    /// <summary>A transfer with no progress for this long is abandoned by both ends.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>How long a short request (ls, stat, rm) may take.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan StorageRestartMinBackoff { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan StorageRestartMaxBackoff { get; init; } = TimeSpan.FromSeconds(30);
    public ReplicationSettings Replication { get; init; } = new();

    public const int MaxFrameSize = 120 * 1024;

    public static StoreSettings FromConfig(Config root)
    {
        var c = root.GetConfig("objectstore") ?? throw new ConfigurationException("akka.hocon has no 'objectstore' section");
        var chunking = c.GetConfig("chunking");
        var algorithm = chunking.GetString("algorithm", "fastcdc").ToLowerInvariant() switch
        {
            "fastcdc" => ChunkingAlgorithm.FastCdc,
            "fixed" => ChunkingAlgorithm.Fixed,
            var other => throw new ConfigurationException($"objectstore.chunking.algorithm must be 'fastcdc' or 'fixed', got '{other}'"),
        };
        var settings = new StoreSettings
        {
            DataDirectory = c.GetString("data-dir", "./data"),
            Fsync = c.GetBoolean("fsync", true),
            Chunking = new ChunkerOptions
            {
                Algorithm = algorithm,
                MinSize = Bytes(chunking, "min-size", 256 * 1024),
                AverageSize = Bytes(chunking, "avg-size", 1024 * 1024),
                MaxSize = Bytes(chunking, "max-size", 4 * 1024 * 1024),
                FixedSize = Bytes(chunking, "fixed-size", 1024 * 1024),
                ShaNi = chunking.GetBoolean("sha-ni", true),
            },
            FrameSize = Bytes(c, "transfer.frame-size", 64 * 1024),
            Window = c.GetInt("transfer.window", 32),
            DataPlane = c.GetBoolean("transfer.data-plane", true),
            DataPort = c.GetInt("transfer.data-port", 0),
            LocalHandOver = c.GetBoolean("transfer.local-hand-over", true),
            IdleTimeout = c.GetTimeSpan("transfer.idle-timeout", TimeSpan.FromSeconds(30)),
            RequestTimeout = c.GetTimeSpan("request-timeout", TimeSpan.FromSeconds(30)),
            ChunksInFlight = c.GetInt("storage.chunks-in-flight", 16),
            ChunksAwaitingCommit = c.GetInt("storage.chunks-awaiting-commit", 128),
            IoParallelism = c.GetInt("storage.io-parallelism", 8),
            DirectIo = c.GetBoolean("storage.direct-io", true),
            StorageRestartMinBackoff = c.GetTimeSpan("storage.restart-backoff.min", TimeSpan.FromSeconds(1)),
            StorageRestartMaxBackoff = c.GetTimeSpan("storage.restart-backoff.max", TimeSpan.FromSeconds(30)),
            Replication = ReplicationSettings.FromConfig(c.GetConfig("replication")),
        };
        settings.Validate();
        return settings;
    }

    public void Validate()
    {
        Chunking.Validate();
        if (FrameSize is < 1024 or > MaxFrameSize)
            throw new ConfigurationException($"objectstore.transfer.frame-size must be 1 KiB..120 KiB (Akka.Remote frames are 128000 bytes), got {FrameSize}");
        if (Window < 1) throw new ConfigurationException($"objectstore.transfer.window must be at least 1, got {Window}");
        if (ChunksInFlight < 1) throw new ConfigurationException($"objectstore.storage.chunks-in-flight must be at least 1, got {ChunksInFlight}");
        if (IoParallelism < 1) throw new ConfigurationException($"objectstore.storage.io-parallelism must be at least 1, got {IoParallelism}");
        Replication.Validate();
    }

    private static int Bytes(Config c, string path, int fallback)
    {
        var value = c.GetByteSize(path);
        return value is null ? fallback : checked((int)value.Value);
    }
}
