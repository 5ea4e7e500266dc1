using ObjectStore.Core.Metadata;

namespace ObjectStore.Actors.Replication.Repair;

/// <summary>What a node's actors ask of its repair actor (<c>/user/repair</c>).</summary>
public static class RepairProtocol
{
    /// <summary>Copies to make, persisted before the reply. Replies RepairsQueued, or StoreError when index.db refused them.</summary>
    public sealed record QueueRepairs(IReadOnlyList<RepairEntry> Entries) : ILocalMessage;
    public sealed record RepairsQueued(int Count) : ILocalMessage;

    /// <summary>Replies RepairStatus.</summary>
    public sealed record GetRepairStatus : ILocalMessage
    {
        public static readonly GetRepairStatus Instance = new();
    }

    /// <param name="Backlog">Per target node id (empty: no node for the copy yet): entries and bytes waiting.</param>
    /// <param name="BytesPerSecond">Bytes repaired per second over the last minute.</param>
    public sealed record RepairStatus(IReadOnlyDictionary<string, (long Entries, long Bytes)> Backlog, int Running, long CopiesMade, long BytesRepaired,
        long Failures, double BytesPerSecond, string LastError) : ILocalMessage
    {
        public long Entries => Backlog.Values.Sum(b => b.Entries);
        public long Bytes => Backlog.Values.Sum(b => b.Bytes);
    }
}
