using System.Runtime.CompilerServices;
using Akka.Actor;
using ObjectStore.Actors.Replication;
using ObjectStore.Actors.Replication.Repair;
using ObjectStore.Actors.Storage;
using ObjectStore.Core.Hashing;
using static ObjectStore.Actors.Storage.IndexProtocol;

namespace ObjectStore.Actors.Commands.Palettes;

/// <summary>`store stats`: what this node holds, and how much deduplication saves.</summary>
internal sealed class StorePalette : ICommandPalette
{
    public PaletteSpec Spec { get; } = new("store", "what this node stores",
    [
        new("stats", "store stats", "objects, chunks, logical bytes (what the objects add up to) vs bytes on disk (the dedup ratio), quarantined chunks", []),
    ]);

    public async IAsyncEnumerable<CommandOutput> RunAsync(string command, CommandArgs args, CommandContext context,
        [EnumeratorCancellation] CancellationToken cancel)
    {
        var holdings = await context.Node.Index.AskIndex<HoldingsFound>(GetHoldings.Instance, context.Settings.RequestTimeout, cancel);
        var versions = holdings.Holdings.Versions;
        var logical = versions.Sum(v => v.Size);
        // Each chunk file once: what deduplication leaves on disk.
        var (files, stored) = await Task.Run(() =>
        {
            long count = 0, bytes = 0;
            foreach (var id in context.Node.Chunks.EnumerateChunks())
            {
                try { bytes += new FileInfo(context.Node.Chunks.PathOf(id)).Length; count++; }
                catch (IOException) { } // deleted meanwhile
            }
            return (count, bytes);
        }, cancel);
        var referenced = versions.SelectMany(v => v.Chunks).Distinct().Count();
        yield return CommandOutput.Of(new CommandTable(["field", "value"],
        [
            ["objects", versions.Count.ToString()],
            ["delete markers", holdings.Holdings.Markers.Count.ToString()],
            ["chunks", files.ToString()],
            ["chunks referenced", referenced.ToString()],
            ["logical bytes", logical.ToString()],
            ["stored bytes", stored.ToString()],
            ["dedup ratio", stored == 0 ? "-" : (logical / (double)stored).ToString("0.00")],
            ["quarantined chunks", context.Node.Chunks.QuarantinedCount().ToString()],
        ]));
    }
}

/// <summary>
/// `replication status`: how far this node's data is from every copy in place — chunks it holds that lack
/// reachable owners, its pushes per peer, and its repair queue.
/// </summary>
internal sealed class ReplicationPalette : ICommandPalette
{
    public PaletteSpec Spec { get; } = new("replication", "copies and their repair",
    [
        new("status", "replication status", "chunks held here short of copies (an owner unreachable or missing), pushes per peer (in flight, failed attempts, given up: handed off), the repair queue, its rate and time left", []),
    ]);

    public async IAsyncEnumerable<CommandOutput> RunAsync(string command, CommandArgs args, CommandContext context,
        [EnumeratorCancellation] CancellationToken cancel)
    {
        var timeout = context.Settings.RequestTimeout;
        var system = context.System;
        var holdings = await context.Node.Index.AskIndex<HoldingsFound>(GetHoldings.Instance, timeout, cancel);
        var pushes = await system.ActorSelection($"/user/{OutgoingPushes.Name}").Ask<List<OutgoingPushes.PeerPushes>>(OutgoingPushes.GetPushStats.Instance, timeout);
        var repair = await system.ActorSelection($"/user/{RepairActor.Name}").Ask<RepairProtocol.RepairStatus>(RepairProtocol.GetRepairStatus.Instance, timeout);

        var ring = ClusterRing.Current(system, context.Node.NodeId);
        var factor = context.Settings.Replication.Factor;
        var chunks = holdings.Holdings.Versions.SelectMany(v => v.Chunks).Distinct().ToList();
        long shortChunks = 0, missingCopies = 0;
        foreach (var chunk in chunks)
        {
            var owners = ring.OwnersOf(chunk, factor);
            var missing = owners.Count(o => ring.Find(o) is not { Reachable: true }) + Math.Max(0, factor - owners.Count);
            if (missing == 0) continue;
            shortChunks++;
            missingCopies += missing;
        }
        var left = repair.BytesPerSecond > 0 ? repair.Bytes / repair.BytesPerSecond : (double?)null;
        yield return CommandOutput.Of(new CommandTable(["field", "value"],
        [
            ["chunks held", chunks.Count.ToString()],
            ["chunks short of copies", shortChunks.ToString()],
            ["copies missing", missingCopies.ToString()],
            ["factor", factor.ToString()],
            ["reachable storage nodes", $"{ring.Reachable.Count()} of {ring.Size}"],
            ["repair queue copies", repair.Entries.ToString()],
            ["repair queue bytes", repair.Bytes.ToString()],
            ["repairs running", repair.Running.ToString()],
            ["repair rate bytes/s", repair.BytesPerSecond.ToString("0")],
            ["repair seconds left", left is { } s ? s.ToString("0") : "-"],
            ["copies repaired", repair.CopiesMade.ToString()],
            ["repair failures", repair.Failures.ToString()],
        ]));
        var peers = ring.Members.Select(m => m.NodeId).Where(id => id != context.Node.NodeId)
            .Union(pushes.Select(p => p.NodeId)).Union(repair.Backlog.Keys.Where(k => k.Length > 0)).Order(StringComparer.Ordinal);
        yield return CommandOutput.Of(new CommandTable(["peer", "reachable", "pushes in flight", "failed attempts", "handed off", "pushed", "queued copies", "queued bytes"],
            peers.Select(id =>
            {
                var p = pushes.FirstOrDefault(x => x.NodeId == id);
                var q = repair.Backlog.GetValueOrDefault(id);
                var member = ring.Find(id);
                return (IReadOnlyList<string>)
                [
                    id, member is null ? "gone" : member.Reachable ? "yes" : "no", (p?.InFlight ?? 0).ToString(), (p?.FailedAttempts ?? 0).ToString(),
                    (p?.GivenUp ?? 0).ToString(), (p?.Done ?? 0).ToString(), q.Entries.ToString(), q.Bytes.ToString(),
                ];
            }).ToList()));
    }
}
