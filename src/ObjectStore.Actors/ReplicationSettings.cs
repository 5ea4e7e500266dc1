using Akka.Configuration;

namespace ObjectStore.Actors;

/// <summary>The <c>objectstore.replication</c> section of the configuration (defaults and reasons: akka.hocon).</summary>
public sealed record ReplicationSettings
{
    private ReplicationSettings() { }

    /// <summary>Copies of every chunk and every object's metadata; a promise, not capped by the cluster's size.</summary>
    public int Factor { get; init; }
    /// <summary>Durable copies a put needs before it is acknowledged.</summary>
    public int WriteQuorum { get; init; }
    /// <summary>How much longer than the quorum the other copies of a put are waited for before they are queued.</summary>
    public TimeSpan LateCopyGrace { get; init; }
    /// <summary>Chunk parts (each at most a frame) in flight per chunk transfer before the sender waits for acks.</summary>
    public int Window { get; init; }
    /// <summary>A transfer that hears nothing from its peer for this long fails (and is retried).</summary>
    public TimeSpan TransferTimeout { get; init; }
    public TimeSpan RetryMinBackoff { get; init; }
    public TimeSpan RetryMaxBackoff { get; init; }
    /// <summary>Retries of a failed transfer to one node before it is handed off to the next node in the owner list.</summary>
    public int MaxRetries { get; init; }
    /// <summary>How long a get, stat or ls waits for the other nodes' answers before going on without the slow ones.</summary>
    public TimeSpan LookupTimeout { get; init; }
    /// <summary>Chunk transfers a node receives at once; more are refused (the sender retries later).</summary>
    public int MaxIncomingTransfers { get; init; }
    /// <summary>Whether chunk bodies between nodes go on data connections (when both have a data plane) rather than as Akka.Remote parts.</summary>
    public bool DataConnections { get; init; }
    /// <summary>Chunks kept for a put that went silent are collected this long after its last news.</summary>
    public TimeSpan PinLease { get; init; }
    /// <summary>Chunk references per message when a manifest moves between nodes.</summary>
    public int ManifestPage { get; init; }
    /// <summary>How long a node keeps the marker of a deleted key; an older copy that turns up later than this can come back.</summary>
    public TimeSpan DeleteMarkerTtl { get; init; }

    internal static ReplicationSettings Read(SettingsReader c) => new()
    {
        Factor = c.Int("objectstore.replication.factor"),
        WriteQuorum = c.Int("objectstore.replication.write-quorum"),
        LateCopyGrace = c.Duration("objectstore.replication.late-copy-grace"),
        Window = c.Int("objectstore.replication.window"),
        TransferTimeout = c.Duration("objectstore.replication.transfer-timeout"),
        RetryMinBackoff = c.Duration("objectstore.replication.retry.min-backoff"),
        RetryMaxBackoff = c.Duration("objectstore.replication.retry.max-backoff"),
        MaxRetries = c.Int("objectstore.replication.retry.max-retries"),
        LookupTimeout = c.Duration("objectstore.replication.lookup-timeout"),
        MaxIncomingTransfers = c.Int("objectstore.replication.max-incoming-transfers"),
        DataConnections = c.Bool("objectstore.replication.data-connections"),
        PinLease = c.Duration("objectstore.replication.pin-lease"),
        ManifestPage = c.Int("objectstore.replication.manifest-page"),
        DeleteMarkerTtl = c.Duration("objectstore.replication.delete-marker-ttl"),
    };

    public void Validate()
    {
        if (Factor < 1) throw new ConfigurationException($"objectstore.replication.factor must be at least 1, got {Factor}");
        if (WriteQuorum < 1 || WriteQuorum > Factor)
            throw new ConfigurationException($"objectstore.replication.write-quorum must be 1..factor ({Factor}), got {WriteQuorum}");
        if (LateCopyGrace < TimeSpan.Zero)
            throw new ConfigurationException($"objectstore.replication.late-copy-grace must be 0 or more, got {LateCopyGrace}");
        if (Window < 1) throw new ConfigurationException($"objectstore.replication.window must be at least 1, got {Window}");
        if (MaxRetries < 0) throw new ConfigurationException($"objectstore.replication.retry.max-retries must be 0 or more, got {MaxRetries}");
        if (MaxIncomingTransfers < 1) throw new ConfigurationException("objectstore.replication.max-incoming-transfers must be at least 1");
        if (PinLease <= TimeSpan.Zero) throw new ConfigurationException($"objectstore.replication.pin-lease must be positive, got {PinLease}");
        if (DeleteMarkerTtl <= TimeSpan.Zero)
            throw new ConfigurationException($"objectstore.replication.delete-marker-ttl must be positive, got {DeleteMarkerTtl}");
        if (ManifestPage is < 1 or > 3000)
            throw new ConfigurationException($"objectstore.replication.manifest-page must be 1..3000 (a page must fit one 128000-byte frame), got {ManifestPage}");
    }
}
