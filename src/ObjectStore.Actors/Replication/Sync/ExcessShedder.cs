using Akka.Actor;
using ObjectStore.Actors.Replication.Repair;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;
using ObjectStore.Core.Sync;
using static ObjectStore.Actors.Protocol.ReplicaProtocol;
using static ObjectStore.Actors.Storage.ChunkStorageProtocol;
using static ObjectStore.Actors.Storage.IndexProtocol;

namespace ObjectStore.Actors.Replication.Sync;

/// <summary>
/// Gives up what this node holds but no longer should (<see cref="ExcessCopies"/>): a hand-off copy once its
/// owner is back, a copy whose ownership moved to a node that joined. It asks every current owner whether it
/// holds its own copy — the version's metadata (that version or a newer one) and the chunks it owns — and only
/// when all of them say so drops the version here (its chunks are collected) or deletes the chunk file. An
/// owner that lacks its copy gets it through the repair queue first: the hand-off goes home.
/// </summary>
internal sealed class ExcessShedder(ActorSystem system, StoreSettings settings, IActorRef index, IActorRef keeper)
{
    public sealed record Outcome(int VersionsDropped, int ChunksShed, IReadOnlyList<RepairEntry> ToQueue);

    public async Task<Outcome> Shed(ClusterRing ring, ExcessCopies excess)
    {
        var factor = settings.Replication.Factor;
        var toQueue = new Dictionary<(string, string), RepairEntry>();
        // Only items whose owners all answer now: an unreachable owner cannot confirm anything.
        bool AllReachable(IEnumerable<string> nodes) => nodes.All(n => ring.Find(n) is { Reachable: true });

        var heldBy = new Dictionary<string, HashSet<ContentHash>>();
        async Task<HashSet<ContentHash>> Held(string node, IEnumerable<ContentHash> ids)
        {
            if (!heldBy.TryGetValue(node, out var known)) heldBy[node] = known = [];
            var ask = ids.Where(id => !known.Contains(id)).Distinct().ToList();
            // A page the owner does not answer counts as not held: nothing is given up on its account.
            if (ask.Count > 0) known.UnionWith((await ClusterRing.HeldBy(system, ring.Find(node)!.Address, ask, settings.Replication)).Held);
            return known;
        }

        var dropped = 0;
        foreach (var (version, holders) in excess.Versions)
        {
            if (!AllReachable(holders)) continue;
            if (await index.Ask<object>(new GetManifest(version.Bucket, version.Key), settings.RequestTimeout) is not ManifestFound { Manifest: var ours }
                || ours.VersionId != version.VersionId) continue;
            var confirmed = true;
            foreach (var node in holders)
            {
                var owned = version.Chunks.Where(c => ring.OwnersOf(c, factor).Contains(node)).ToList();
                var has = await Held(node, owned);
                var reply = await ClusterRing.ReplicasOf(system, ring.Find(node)!.Address)
                    .Ask<object>(new FindManifest(version.Bucket, version.Key), settings.Replication.LookupTimeout);
                var metadata = reply is ManifestReply r
                    && (r.Manifest is { } theirs && (theirs.VersionId == ours.VersionId || theirs.IsNewerThan(ours))
                        || r.Deleted is { } marker && marker.IsNewerThan(ours));
                if (metadata && owned.All(has.Contains)) continue;
                confirmed = false;
                toQueue.TryAdd((version.VersionId, node), new RepairEntry(version.VersionId, node, version.Bucket, version.Key, version.Size,
                    "held by a node that does not own it"));
            }
            if (!confirmed) continue;
            if (await index.Ask<object>(new DropVersion(version.Bucket, version.Key, version.VersionId), settings.RequestTimeout) is ReplicaDropped)
                dropped++;
        }

        // One question per owner for all the chunks it should have, rather than one per chunk.
        foreach (var group in excess.Chunks.Where(c => AllReachable(c.Value.Owners))
                     .SelectMany(c => c.Value.Owners.Select(o => (Owner: o, Chunk: c.Key))).GroupBy(x => x.Owner))
            await Held(group.Key, group.Select(x => x.Chunk));
        var shed = new List<ContentHash>();
        foreach (var (chunk, (version, owners)) in excess.Chunks)
        {
            if (!AllReachable(owners)) continue;
            var missing = new List<string>();
            foreach (var owner in owners)
                if (!(await Held(owner, [chunk])).Contains(chunk)) missing.Add(owner);
            if (missing.Count == 0)
            {
                shed.Add(chunk);
                continue;
            }
            foreach (var owner in missing)
                toQueue.TryAdd((version.VersionId, owner), new RepairEntry(version.VersionId, owner, version.Bucket, version.Key, version.Size,
                    "chunk held by a node that does not own it"));
        }
        if (shed.Count > 0) keeper.Tell(new ShedChunks(shed));
        return new Outcome(dropped, shed.Count, toQueue.Values.ToList());
    }
}
