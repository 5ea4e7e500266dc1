using static ObjectStore.Actors.Protocol.StoreProtocol;
using ObjectStore.Actors.Protocol;
using W = ObjectStore.Actors.Protocol.Wire;

namespace ObjectStore.Actors.Serialization;

/// <summary>The health and leave part of the store protocol (the shell's `status` and `leave`), registered with <see cref="StoreSerializer"/>.</summary>
internal static class StoreHealthMessages
{
    public static void Register(ProtoSerializer s)
    {
        s.Message<GetClusterHealth, W.GetClusterHealth>("chealth", W.GetClusterHealth.Parser, _ => new(), _ => GetClusterHealth.Instance);
        s.Message<ClusterHealth, W.ClusterHealth>("chealthok", W.ClusterHealth.Parser,
            m => new() { Nodes = { m.Nodes.Select(ToWire) }, Notice = m.Notice }, w => new(w.Nodes.Select(FromWire).ToList(), w.Notice));
        s.Message<GetNodeHealth, W.GetNodeHealth>("health", W.GetNodeHealth.Parser, _ => new(), _ => GetNodeHealth.Instance);
        s.Message<NodeHealth, W.NodeHealth>("healthok", W.NodeHealth.Parser, ToWire, FromWire);
        s.Message<LeaveCluster, W.LeaveCluster>("leave", W.LeaveCluster.Parser, _ => new(), _ => LeaveCluster.Instance);
        s.Message<LeaveAccepted, W.LeaveAccepted>("leaveok", W.LeaveAccepted.Parser,
            m => new() { NodeId = m.NodeId, Objects = m.Objects }, w => new(w.NodeId, WireMapping.NonNegative(w.Objects, "count")));
    }

    private static W.NodeHealth ToWire(NodeHealth m) => new()
    {
        NodeId = m.NodeId, Address = m.Address, Status = m.Status, Answered = m.Answered, Objects = m.Objects, Chunks = m.Chunks,
        CopiesQueued = m.CopiesQueued, BytesQueued = m.BytesQueued,
        Backlog = { m.Backlog.Select(b => new W.PeerBacklog { NodeId = b.NodeId, Copies = b.Copies, Bytes = b.Bytes }) },
        RepairsRunning = m.RepairsRunning, CopiesMade = m.CopiesMade, BytesRepaired = m.BytesRepaired, RepairFailures = m.RepairFailures,
        RepairBytesPerSecond = m.RepairBytesPerSecond, RepairRateLimit = m.RepairRateLimit, LastRepairError = m.LastRepairError,
        LastAntiEntropyMs = m.LastAntiEntropyMs, AntiEntropyPasses = m.AntiEntropyPasses, AntiEntropyDifferences = m.AntiEntropyDifferences,
        Scrubbing = m.Scrubbing, LastScrubMs = m.LastScrubMs, ScrubChecked = m.ScrubChecked, ScrubLeft = m.ScrubLeft,
        CorruptFound = m.CorruptFound, Quarantined = m.Quarantined, Draining = m.Draining,
    };

    private static NodeHealth FromWire(W.NodeHealth w) => new(w.NodeId, w.Address, w.Status, w.Answered,
        WireMapping.NonNegative(w.Objects, "count"), WireMapping.NonNegative(w.Chunks, "count"),
        WireMapping.NonNegative(w.CopiesQueued, "count"), WireMapping.NonNegative(w.BytesQueued, "size"),
        w.Backlog.Select(b => new PeerBacklog(b.NodeId, WireMapping.NonNegative(b.Copies, "count"), WireMapping.NonNegative(b.Bytes, "size"))).ToList(),
        w.RepairsRunning, w.CopiesMade, w.BytesRepaired, w.RepairFailures, w.RepairBytesPerSecond, w.RepairRateLimit, w.LastRepairError,
        w.LastAntiEntropyMs, w.AntiEntropyPasses, w.AntiEntropyDifferences,
        w.Scrubbing, w.LastScrubMs, w.ScrubChecked, w.ScrubLeft, w.CorruptFound, w.Quarantined, w.Draining);
}
