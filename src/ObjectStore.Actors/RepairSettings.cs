using Akka.Configuration;

namespace ObjectStore.Actors;

/// <summary>The <c>objectstore.repair</c> section of the configuration (defaults and reasons: akka.hocon).</summary>
public sealed record RepairSettings
{
    private RepairSettings() { }

    /// <summary>Bytes per second the repair worker sends at most.</summary>
    public int Rate { get; init; }
    /// <summary>Bytes per second it sends at most while the node serves puts or gets.</summary>
    public int BusyRate { get; init; }
    /// <summary>Copies (object versions) repaired at once.</summary>
    public int Concurrency { get; init; }
    public TimeSpan RetryMinBackoff { get; init; }
    public TimeSpan RetryMaxBackoff { get; init; }
    /// <summary>How often the queue is looked at for work that has come due.</summary>
    public TimeSpan PollInterval { get; init; }
    /// <summary>How often each node compares its holdings with every other node.</summary>
    public TimeSpan AntiEntropyInterval { get; init; }
    /// <summary>How long the membership must stay unchanged before a comparison it triggered starts.</summary>
    public TimeSpan AntiEntropySettle { get; init; }
    /// <summary>Bytes per second the scrubber re-reads at most.</summary>
    public int ScrubRate { get; init; }
    /// <summary>Time from the start of one scrub pass to the start of the next.</summary>
    public TimeSpan ScrubInterval { get; init; }
    /// <summary>How often the chunk keeper sweeps for chunk files nothing references or pins.</summary>
    public TimeSpan GcInterval { get; init; }
    /// <summary>How old such a file must be before the sweep deletes it.</summary>
    public TimeSpan GcGrace { get; init; }

    internal static RepairSettings Read(SettingsReader c) => new()
    {
        Rate = c.Bytes("objectstore.repair.rate"),
        BusyRate = c.Bytes("objectstore.repair.busy-rate"),
        Concurrency = c.Int("objectstore.repair.concurrency"),
        RetryMinBackoff = c.Duration("objectstore.repair.retry.min-backoff"),
        RetryMaxBackoff = c.Duration("objectstore.repair.retry.max-backoff"),
        PollInterval = c.Duration("objectstore.repair.poll-interval"),
        AntiEntropyInterval = c.Duration("objectstore.repair.anti-entropy-interval"),
        AntiEntropySettle = c.Duration("objectstore.repair.anti-entropy-settle"),
        ScrubRate = c.Bytes("objectstore.repair.scrub-rate"),
        ScrubInterval = c.Duration("objectstore.repair.scrub-interval"),
        GcInterval = c.Duration("objectstore.repair.gc-interval"),
        GcGrace = c.Duration("objectstore.repair.gc-grace"),
    };

    public void Validate()
    {
        if (Rate < 64 * 1024) throw new ConfigurationException($"objectstore.repair.rate must be at least 64KiB (bytes per second), got {Rate}");
        if (BusyRate < 64 * 1024 || BusyRate > Rate)
            throw new ConfigurationException($"objectstore.repair.busy-rate must be 64KiB..rate ({Rate}), got {BusyRate}");
        if (Concurrency < 1) throw new ConfigurationException($"objectstore.repair.concurrency must be at least 1, got {Concurrency}");
        if (RetryMinBackoff <= TimeSpan.Zero || RetryMaxBackoff < RetryMinBackoff)
            throw new ConfigurationException("objectstore.repair.retry.min-backoff must be positive and max-backoff at least as long");
        if (PollInterval <= TimeSpan.Zero) throw new ConfigurationException($"objectstore.repair.poll-interval must be positive, got {PollInterval}");
        if (AntiEntropyInterval <= TimeSpan.Zero)
            throw new ConfigurationException($"objectstore.repair.anti-entropy-interval must be positive, got {AntiEntropyInterval}");
        if (ScrubRate < 64 * 1024) throw new ConfigurationException($"objectstore.repair.scrub-rate must be at least 64KiB (bytes per second), got {ScrubRate}");
        if (ScrubInterval <= TimeSpan.Zero) throw new ConfigurationException($"objectstore.repair.scrub-interval must be positive, got {ScrubInterval}");
        if (GcInterval <= TimeSpan.Zero) throw new ConfigurationException($"objectstore.repair.gc-interval must be positive, got {GcInterval}");
        if (GcGrace < TimeSpan.Zero) throw new ConfigurationException($"objectstore.repair.gc-grace must be 0 or more, got {GcGrace}");
        if (AntiEntropySettle < TimeSpan.Zero)
            throw new ConfigurationException($"objectstore.repair.anti-entropy-settle must be 0 or more, got {AntiEntropySettle}");
    }

    /// <summary>The delay before attempt <paramref name="attempts"/>+1: min-backoff doubled per attempt, at most max-backoff.</summary>
    public TimeSpan Backoff(int attempts) =>
        TimeSpan.FromTicks(Math.Min(RetryMaxBackoff.Ticks, RetryMinBackoff.Ticks * (1L << Math.Min(attempts, 30))));
}
