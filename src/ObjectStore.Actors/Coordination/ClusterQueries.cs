using Akka.Actor;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Replication;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;
using static ObjectStore.Actors.Protocol.ReplicaProtocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Coordination;

/// <summary>
/// Metadata requests answered from the whole cluster: each reachable storage node is asked (this one
/// included, through its own endpoints), the answers are merged last-writer-wins, and a node that
/// does not answer within the lookup timeout is left out rather than waited for.
/// </summary>
internal sealed class ClusterQueries(ActorSystem system, ClusterRing ring, TimeSpan timeout, int manifestPage)
{
    private async Task<List<(RingMember Node, object Reply)>> AskAll(object request)
    {
        var asks = ring.Reachable.Select(async node =>
        {
            var endpoint = request is IChunkTransferMessage ? ClusterRing.ChunksOf(system, node.Address) : ClusterRing.ReplicasOf(system, node.Address);
            try
            {
                return (node, await endpoint.Ask<object>(request, timeout));
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or ActorNotFoundException)
            {
                return (node, (object)e);
            }
        });
        return (await Task.WhenAll(asks)).ToList();
    }

    /// <summary>
    /// The newest version of a key any reachable node has, or a StoreError. A delete newer than every
    /// version means NotFound, and the nodes still holding an older version are told of the delete
    /// (they missed it while they were down).
    /// </summary>
    public async Task<object> NewestManifest(string bucket, string key)
    {
        var newest = Newest(bucket, key, await AskAll(new FindManifest(bucket, key)));
        return newest is PartialManifest p ? await RestOfManifest(p.From, p.First) : newest;
    }

    /// <summary>The newest version of a large manifest, of which only the first page of chunks has come (from <paramref name="From"/>).</summary>
    public sealed record PartialManifest(RingMember From, ManifestReply First);

    /// <summary>
    /// <see cref="NewestManifest"/> for several keys of a bucket in one message to each node: each key's
    /// ObjectManifest, StoreError, or (a large manifest) <see cref="PartialManifest"/>, in order.
    /// </summary>
    public async Task<IReadOnlyList<object>> NewestManifests(string bucket, IReadOnlyList<string> keys)
    {
        var replies = await AskAll(new FindManifests(bucket, keys));
        return keys.Select((key, i) => Newest(bucket, key, replies
                .Select(r => (r.Node, r.Reply is ManifestReplies { Replies.Count: var n } all && n == keys.Count ? all.Replies[i] : r.Reply))
                .ToList()))
            .ToList();
    }

    /// <summary>The key's newest version among the nodes' replies (a ManifestReply each, or what went wrong).</summary>
    private object Newest(string bucket, string key, List<(RingMember Node, object Reply)> replies)
    {
        ManifestReply? newest = null;
        RingMember? from = null;
        DeleteMarker? deleted = null;
        foreach (var (node, reply) in replies)
        {
            if (reply is not ManifestReply found) continue;
            if (found.Manifest is { } m && (newest is null || m.IsNewerThan(newest.Manifest!))) (newest, from) = (found, node);
            if (found.Deleted is { } d && (deleted is null || d.IsNewerThan(deleted))) deleted = d;
        }
        if (deleted is not null && (newest is null || deleted.IsNewerThan(newest.Manifest!)))
        {
            foreach (var (node, reply) in replies)
                if (reply is ManifestReply { Manifest: not null })
                    ClusterRing.ReplicasOf(system, node.Address).Tell(new DeleteLocal(deleted), ActorRefs.NoSender);
            return new StoreError(StoreErrorCode.NotFound, $"{bucket}/{key}: no such object (deleted)");
        }
        if (newest is not null) return newest.Partial ? new PartialManifest(from!, newest) : newest.Manifest!;
        var silent = replies.Count(r => r.Reply is not ManifestReply);
        if (silent == replies.Count)
            return FirstError(replies) is { } refused
                ? new StoreError(refused.Code, $"{bucket}/{key}: {refused.Message}")
                : new StoreError(StoreErrorCode.Unavailable, $"{bucket}/{key}: no node answered within {timeout.TotalSeconds:0.#}s");
        return new StoreError(StoreErrorCode.NotFound,
            $"{bucket}/{key}: no such object" + (silent > 0 ? $" ({silent} of {replies.Count} nodes did not answer)" : ""));
    }

    /// <summary>A large manifest came with its first page of chunks: the rest, page by page, from the same node.</summary>
    private async Task<object> RestOfManifest(RingMember node, ManifestReply first)
    {
        var manifest = first.Manifest!;
        var chunks = new List<ChunkRef>(first.TotalChunks);
        chunks.AddRange(manifest.Chunks);
        while (chunks.Count < first.TotalChunks)
        {
            var page = await ChunkPageFrom(node, manifest, chunks.Count);
            if (page is not IReadOnlyList<ChunkRef> more) return page;
            chunks.AddRange(more);
        }
        if (chunks.Count != first.TotalChunks || chunks.Sum(c => (long)c.Length) != manifest.Size)
            return new StoreError(StoreErrorCode.Unavailable, $"{manifest.Bucket}/{manifest.Key}: the chunk list from {node.NodeId} does not add up; try again");
        return manifest with { Chunks = chunks };
    }

    /// <summary>One page of a version's chunks from <paramref name="start"/> on, from the node that has it: the chunks, or a StoreError.</summary>
    private async Task<object> ChunkPageFrom(RingMember node, ObjectManifest manifest, int start)
    {
        object reply;
        try
        {
            reply = await ClusterRing.ReplicasOf(system, node.Address).Ask<object>(
                new FindManifestChunks(manifest.Bucket, manifest.Key, manifest.VersionId, start), timeout);
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
        {
            return new StoreError(StoreErrorCode.Unavailable, $"{manifest.Bucket}/{manifest.Key}: {node.NodeId} stopped answering while sending its chunk list; try again");
        }
        if (reply is StoreError error) return error;
        if (reply is not ManifestChunks page || page.Start != start || page.Chunks.Count == 0)
            return new StoreError(StoreErrorCode.Unavailable, $"{manifest.Bucket}/{manifest.Key}: {node.NodeId} sent a broken chunk list; try again");
        return page.Chunks;
    }

    /// <summary>
    /// Merges every node's listing. Where a node's listing was cut at the limit, only keys up to its
    /// last one are known complete, so the merged page stops there too and says it is truncated.
    /// </summary>
    public async Task<object> List(ListObjects m)
    {
        var replies = await AskAll(new ListLocalObjects(m.Bucket, m.Prefix, m.StartAfter, m.Limit));
        var listings = replies.Select(r => r.Reply).OfType<LocalListing>().ToList();
        if (listings.Count == 0) return FirstError(replies) ?? new StoreError(StoreErrorCode.Unavailable, "no node answered the listing");
        var newest = new Dictionary<string, ObjectInfo>(StringComparer.Ordinal);
        foreach (var o in listings.SelectMany(l => l.Objects))
            if (!newest.TryGetValue(o.Key, out var seen) || VersionOrder.IsNewer(o.CreatedUnixMs, o.Writer, o.VersionId, seen.CreatedUnixMs, seen.Writer, seen.VersionId))
                newest[o.Key] = o;
        // A copy on a node that missed a delete is hidden by the newer delete marker another node keeps.
        foreach (var d in listings.SelectMany(l => l.Deleted))
            if (newest.TryGetValue(d.Key, out var seen)
                && VersionOrder.IsNewer(d.Created.ToUnixTimeMilliseconds(), d.Writer, d.VersionId, seen.CreatedUnixMs, seen.Writer, seen.VersionId))
                newest.Remove(d.Key);
        var merged = newest.Values.OrderBy(o => o.Key, KeyOrder.Instance).ToList();
        var truncated = false;
        var cut = listings.Where(l => l.Truncated && l.Objects.Count > 0).Select(l => l.Objects[^1].Key).Min(KeyOrder.Instance);
        if (cut is not null)
        {
            merged = merged.Where(o => KeyOrder.Instance.Compare(o.Key, cut) <= 0).ToList();
            truncated = true;
        }
        var (page, cutShort) = ListingPage.Fit(merged, Math.Clamp(m.Limit, 1, 10_000));
        return new ObjectListing(m.Bucket, page, truncated || cutShort);
    }

    /// <summary>Buckets of every node; counts are the largest any one node reports (each node counts only the objects it holds).</summary>
    public async Task<object> Buckets()
    {
        var replies = await AskAll(ListLocalBuckets.Instance);
        var listings = replies.Select(r => r.Reply).OfType<BucketListing>().ToList();
        if (listings.Count == 0) return FirstError(replies) ?? new StoreError(StoreErrorCode.Unavailable, "no node answered the listing");
        return new BucketListing(listings.SelectMany(l => l.Buckets)
            .GroupBy(b => b.Name)
            .Select(g => new BucketInfo(g.Key, g.Max(b => b.Objects), g.Max(b => b.Bytes)))
            .OrderBy(b => b.Name, KeyOrder.Instance)
            .ToList());
    }

    /// <summary>Chunk locations per stat reply: with three node ids each about 100 bytes a chunk, three to four times a manifest's 36.</summary>
    private int StatPage => Math.Max(1, manifestPage / 4);

    /// <summary>
    /// The newest version, and for the chunks from <paramref name="firstChunk"/> on (one page) the nodes
    /// that hold each now (asked, not assumed from placement).
    /// </summary>
    public async Task<object> Stat(string bucket, string key, int firstChunk)
    {
        var start = Math.Max(0, firstChunk);
        ObjectInfo info;
        IReadOnlyList<ChunkRef> pageChunks;
        switch (Newest(bucket, key, await AskAll(new FindManifest(bucket, key))))
        {
            case ObjectManifest whole:
                info = ObjectInfos.Of(whole);
                pageChunks = whole.Chunks.Skip(start).Take(StatPage).ToList();
                break;
            case PartialManifest { First: { Manifest: { } head } first } partial:
                // Only this stat page's chunks, from the node that sent the first page: a large object is
                // stat'ed page by page, and its whole chunk list for every page made that quadratic.
                info = ObjectInfos.Of(head) with { ChunkCount = first.TotalChunks };
                if (start + StatPage <= head.Chunks.Count || start >= first.TotalChunks) pageChunks = head.Chunks.Skip(start).Take(StatPage).ToList();
                else
                {
                    var page = await ChunkPageFrom(partial.From, head, start);
                    if (page is not IReadOnlyList<ChunkRef> some) return page;
                    pageChunks = some.Take(StatPage).ToList();
                }
                break;
            case var other:
                return other;
        }
        var ids = pageChunks.Select(c => c.Id).Distinct().ToList();
        var replies = await AskAll(new WhichChunks(ids));
        var holders = new Dictionary<ContentHash, List<string>>();
        foreach (var held in replies.Select(r => r.Reply).OfType<ChunksHeld>())
            foreach (var id in held.Ids)
            {
                if (!holders.TryGetValue(id, out var nodes)) holders[id] = nodes = [];
                nodes.Add(held.NodeId);
            }
        var chunks = pageChunks
            .Select(c => new ChunkLocation(c.Id, c.Length, holders.GetValueOrDefault(c.Id)?.Order(StringComparer.Ordinal).ToList() ?? []))
            .ToList();
        return new ObjectDetails(info, chunks, start);
    }

    /// <summary>
    /// Deletes the key on every reachable node with one delete marker, which each keeps: a node that
    /// is down now learns of the delete when a get finds its older copy, and refuses older replicas.
    /// </summary>
    public async Task<object> Delete(string bucket, string key)
    {
        var replies = await AskAll(new DeleteLocal(DeleteMarker.New(bucket, key, ring.SelfId)));
        if (replies.Any(r => r.Reply is ObjectDeleted))
        {
            Metrics.StoreMetrics.Deletes.Add(1);
            return new ObjectDeleted(bucket, key);
        }
        if (replies.Any(r => r.Reply is StoreError { Code: StoreErrorCode.NotFound })) return new StoreError(StoreErrorCode.NotFound, $"{bucket}/{key}: no such object");
        return FirstError(replies) ?? new StoreError(StoreErrorCode.Unavailable, $"{bucket}/{key}: no node answered within {timeout.TotalSeconds:0.#}s");
    }

    private static StoreError? FirstError(List<(RingMember Node, object Reply)> replies) =>
        replies.Select(r => r.Reply).OfType<StoreError>().FirstOrDefault();
}
