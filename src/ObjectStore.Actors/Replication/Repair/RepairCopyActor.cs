using Akka.Actor;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Chunking;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;
using ObjectStore.Core.Placement;
using static ObjectStore.Actors.Protocol.ReplicaProtocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Storage.ChunkStorageProtocol;
using static ObjectStore.Actors.Storage.IndexProtocol;

namespace ObjectStore.Actors.Replication.Repair;

/// <summary>
/// Makes one copy from the repair queue: object version V on node N. Looks V up in this node's index (a
/// version no longer current here is the newer version's business), asks N which of the chunks it owns
/// it lacks, sends those — read from this node's disk or fetched from another holder, at the repair rate —
/// through the outgoing pushes, then commits V's manifest on N. Reports <see cref="Finished"/> to its parent.
/// </summary>
internal sealed class RepairCopyActor : ReceiveActor
{
    /// <param name="Done">The copy is made, or no longer needed (<paramref name="Note"/> says which).</param>
    /// <param name="Replan">Instead of this entry: copies to the version's owners now (its target left the cluster, or it had none).</param>
    public sealed record Finished(RepairEntry Entry, bool Done, long Bytes, string Note, IReadOnlyList<RepairEntry> Replan) : ILocalMessage;

    private sealed record Begin : ILocalMessage
    {
        public static readonly Begin Instance = new();
    }

    private sealed class RepairFailed(string message) : Exception(message);

    private readonly RepairEntry _entry;
    private readonly StoreSettings _settings;
    private readonly RepairActor.Parts _parts;
    private readonly ByteRate _rate;
    private readonly string _uploadId = ForegroundActivity.RepairUploadPrefix + Guid.NewGuid().ToString("N");
    private long _bytes;

    public RepairCopyActor(RepairEntry entry, StoreSettings settings, RepairActor.Parts parts, ByteRate rate)
    {
        _entry = entry;
        _settings = settings;
        _parts = parts;
        _rate = rate;
        ReceiveAsync<Begin>(async _ =>
        {
            Finished result;
            try
            {
                result = await Run();
            }
            catch (Exception e)
            {
                var reason = e switch
                {
                    RepairFailed => e.Message,
                    AskTimeoutException => "no answer in time",
                    _ => $"{e.GetType().Name}: {e.Message}",
                };
                result = new Finished(_entry, false, _bytes, reason, []);
            }
            Context.Parent.Tell(result);
            Context.Stop(Self);
        });
    }

    public static Props Props(RepairEntry entry, StoreSettings settings, RepairActor.Parts parts, ByteRate rate) =>
        ActorProps.Of(() => new RepairCopyActor(entry, settings, parts, rate));

    protected override void PreStart() => Self.Tell(Begin.Instance);

    private Finished Obsolete(string note) => new(_entry, true, _bytes, note, []);

    private async Task<Finished> Run()
    {
        var found = await _parts.Index.Ask<object>(new GetManifest(_entry.Bucket, _entry.Key), _settings.RequestTimeout);
        // The index not answering (restarting after a storage failure) says nothing about the version: tried again later.
        if (found is StoreError { Code: not StoreErrorCode.NotFound } unanswered)
            throw new RepairFailed($"this node's index could not be read: {unanswered.Message}");
        if (found is not ManifestFound { Manifest: var manifest } || manifest.VersionId != _entry.VersionId)
            return Obsolete("the version is no longer current on this node");
        var system = Context.System;
        var ring = ClusterRing.Current(system, _parts.NodeId);
        var factor = _settings.Replication.Factor;
        var chunkIds = manifest.Chunks.Select(c => c.Id).ToList();
        var target = ring.Find(_entry.Target);
        if (target is null)
        {
            // The target left the cluster (or there was none): the version's owners now take its place; each
            // new entry costs a question to a node that may hold everything already.
            // While the cluster is smaller than the factor, a copy with no node to go to waits (retried with backoff,
            // and at once when a node joins; this node's view of the members may lag the join by a moment).
            var owners = VersionOwners.NodesFor(ring.Placement, manifest.Bucket, manifest.Key, chunkIds, factor);
            if (_entry.Target.Length == 0 && ring.Size < factor) throw new RepairFailed($"no node for the copy yet ({ring.Size} storage node(s), factor {factor})");
            var replan = owners.Select(n => _entry with { Target = n, Attempts = 0, NextTry = default, LastError = "" }).ToList();
            return new Finished(_entry, true, 0, "re-planned for the current owners", replan);
        }
        if (!target.Reachable) throw new RepairFailed($"{target.NodeId} is unreachable");
        var owned = VersionOwners.ChunksFor(ring.Placement, target.NodeId, chunkIds, factor);
        var keyOwner = ring.OwnersOf(manifest.Bucket, manifest.Key, factor).Contains(target.NodeId);
        if (owned.Count == 0 && !keyOwner) return Obsolete($"{target.NodeId} no longer owns any of it");

        var missing = await Missing(target, owned);
        if (missing.Count > 0)
        {
            var lengths = manifest.Chunks.GroupBy(c => c.Id).ToDictionary(g => g.Key, g => g.First().Length);
            var reader = Context.ActorOf(ReplicatedChunkReader.Props(_settings, _parts.Reader, ring, lengths));
            try
            {
                foreach (var id in missing) await Send(id, lengths[id], target, reader);
            }
            catch
            {
                ClusterRing.ReplicasOf(system, target.Address).Tell(new ReleaseReplicaUpload(_uploadId));
                throw;
            }
            finally
            {
                Context.Stop(reader);
            }
        }
        var commit = await ManifestCommit.CommitOn(ClusterRing.ReplicasOf(system, target.Address), manifest, _uploadId, _settings.Replication);
        if (commit is not ReplicaCommitted)
        {
            ClusterRing.ReplicasOf(system, target.Address).Tell(new ReleaseReplicaUpload(_uploadId));
            throw new RepairFailed($"{target.NodeId} did not commit the metadata: {(commit as StoreError)?.Message ?? commit.GetType().Name}");
        }
        // A newer version there: the commit referenced nothing and left this copy's pins, which end here.
        if (commit is ReplicaCommitted { Current: false }) ClusterRing.ReplicasOf(system, target.Address).Tell(new ReleaseReplicaUpload(_uploadId));
        // A chunk the target had when asked may have been collected before the commit referenced it (it was
        // kept only for a put that has ended since); once committed, what is there stays. Asked again.
        var lost = await Missing(target, owned);
        if (lost.Count > 0) throw new RepairFailed($"{lost.Count} chunk(s) went from {target.NodeId} before the commit; sending again");
        return new Finished(_entry, true, _bytes, missing.Count == 0 ? "the chunks were there; metadata committed" : $"{missing.Count} chunk(s) sent", []);
    }

    /// <summary>The chunks among <paramref name="owned"/> that the target does not hold.</summary>
    private async Task<List<ContentHash>> Missing(RingMember target, IReadOnlyList<ContentHash> owned)
    {
        var (held, refusal) = await ClusterRing.HeldBy(Context.System, target.Address, owned, _settings.Replication);
        if (refusal is not null) throw new RepairFailed($"{target.NodeId} did not say which chunks it holds: {refusal}");
        return owned.Where(id => !held.Contains(id)).ToList();
    }

    private async Task Send(ContentHash id, int length, RingMember target, IActorRef reader)
    {
        // While this node serves puts or gets, a chunk costs as many tokens as it would at the busy rate.
        var busy = ForegroundActivity.Of(Context.System).Busy;
        await _rate.Take(busy ? (long)length * _settings.Repair.Rate / _settings.Repair.BusyRate : length);
        var r = _settings.Replication;
        var read = await reader.Ask<object>(new ReadChunk(id), r.TransferTimeout * 2);
        if (read is not ChunkRead chunk)
            throw new RepairFailed($"chunk {id.ToShortString()} could not be read for the copy: {(read as StoreError)?.Message ?? read.GetType().Name}");
        var buffer = ChunkBuffer.CopyOf(chunk.Data.Span);
        // Every attempt of the push may wait a transfer timeout and a backoff.
        var pushTimeout = (r.TransferTimeout + r.RetryMaxBackoff) * (r.MaxRetries + 2);
        var done = await _parts.Pushes.Ask<PushDone>(new PushChunk(0, id, buffer, target, _uploadId), pushTimeout);
        if (!done.Durable) throw new RepairFailed($"chunk {id.ToShortString()} could not be sent to {target.NodeId}: {done.Reason}");
        _bytes += length;
    }
}
