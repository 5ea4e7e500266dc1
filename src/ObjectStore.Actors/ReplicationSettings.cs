using Akka.Configuration;

namespace ObjectStore.Actors;

/// <summary>The <c>objectstore.replication</c> section of akka.hocon.</summary>
public sealed record ReplicationSettings
{
    /// <summary>Copies of every chunk and every object's metadata; with fewer nodes, every node holds one.</summary>
    public int Factor { get; init; } = 3;
    /// <summary>Durable copies a put needs before it is acknowledged (capped at the cluster's size).</summary>
    public int WriteQuorum { get; init; } = 2;
    /// <summary>Chunk parts (each at most a frame) in flight per chunk transfer before the sender waits for acks.</summary>
    public int Window { get; init; } = 16;
    /// <summary>A transfer that hears nothing from its peer for this long fails (and is retried).</summary>
    public TimeSpan TransferTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan RetryMinBackoff { get; init; } = TimeSpan.FromMilliseconds(200);
    public TimeSpan RetryMaxBackoff { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>Retries of a failed transfer to one node before it is handed off to the next node in the owner list.</summary>
    public int MaxRetries { get; init; } = 3;
    /// <summary>How long a get, stat or ls waits for the other nodes' answers before going on without the slow ones.</summary>
    public TimeSpan LookupTimeout { get; init; } = TimeSpan.FromSeconds(3);
    /// <summary>Chunk transfers a node receives at once; more are refused (the sender retries later).</summary>
    public int MaxIncomingTransfers { get; init; } = 64;
    /// <summary>Chunks received for a put whose node went silent are kept this long before they are collected.</summary>
    public TimeSpan PinLease { get; init; } = TimeSpan.FromMinutes(10);
    /// <summary>Chunk references per message when a manifest moves between nodes (36 bytes each; Akka.Remote frames are 128000 bytes).</summary>
    public int ManifestPage { get; init; } = 2000;
    /// <summary>How long a node keeps the marker of a deleted key; an older copy that turns up later than this can come back.</summary>
    public TimeSpan DeleteMarkerTtl { get; init; } = TimeSpan.FromDays(30);

    public static ReplicationSettings FromConfig(Config? c)
    {
        var d = new ReplicationSettings();
        if (c is null) return d;
        return new ReplicationSettings
        {
            Factor = c.GetInt("factor", d.Factor),
            WriteQuorum = c.GetInt("write-quorum", d.WriteQuorum),
            Window = c.GetInt("window", d.Window),
            TransferTimeout = c.GetTimeSpan("transfer-timeout", d.TransferTimeout),
            RetryMinBackoff = c.GetTimeSpan("retry.min-backoff", d.RetryMinBackoff),
            RetryMaxBackoff = c.GetTimeSpan("retry.max-backoff", d.RetryMaxBackoff),
            MaxRetries = c.GetInt("retry.max-retries", d.MaxRetries),
            LookupTimeout = c.GetTimeSpan("lookup-timeout", d.LookupTimeout),
            MaxIncomingTransfers = c.GetInt("max-incoming-transfers", d.MaxIncomingTransfers),
            PinLease = c.GetTimeSpan("pin-lease", d.PinLease),
            ManifestPage = c.GetInt("manifest-page", d.ManifestPage),
            DeleteMarkerTtl = c.GetTimeSpan("delete-marker-ttl", d.DeleteMarkerTtl),
        };
    }

    public void Validate()
    {
        if (Factor < 1) throw new ConfigurationException($"objectstore.replication.factor must be at least 1, got {Factor}");
        if (WriteQuorum < 1 || WriteQuorum > Factor)
            throw new ConfigurationException($"objectstore.replication.write-quorum must be 1..factor ({Factor}), got {WriteQuorum}");
        if (Window < 1) throw new ConfigurationException($"objectstore.replication.window must be at least 1, got {Window}");
        if (MaxRetries < 0) throw new ConfigurationException($"objectstore.replication.retry.max-retries must be 0 or more, got {MaxRetries}");
        if (MaxIncomingTransfers < 1) throw new ConfigurationException("objectstore.replication.max-incoming-transfers must be at least 1");
        if (DeleteMarkerTtl <= TimeSpan.Zero)
            throw new ConfigurationException($"objectstore.replication.delete-marker-ttl must be positive, got {DeleteMarkerTtl}");
        if (ManifestPage is < 1 or > 3000)
            throw new ConfigurationException($"objectstore.replication.manifest-page must be 1..3000 (a page must fit one 128000-byte frame), got {ManifestPage}");
    }

    /// <summary>Copies each chunk gets in a cluster of <paramref name="nodes"/> storage nodes.</summary>
    public int EffectiveFactor(int nodes) => Math.Max(1, Math.Min(Factor, nodes));

    /// <summary>Copies a put needs in a cluster of <paramref name="nodes"/> storage nodes (unreachable ones count: they are still owners).</summary>
    public int EffectiveQuorum(int nodes) => Math.Min(WriteQuorum, EffectiveFactor(nodes));
}
