using ObjectStore.Actors.Protocol;
using static ObjectStore.Actors.Protocol.StoreProtocol;
using static ObjectStore.Actors.Serialization.WireMapping;
using W = ObjectStore.Actors.Protocol.Wire;

namespace ObjectStore.Actors.Serialization;

/// <summary>The metadata and cluster requests of the store protocol (ls, stat, rm, members) and the error reply.</summary>
internal static class StoreQueryMessages
{
    public static void Register(StoreSerializer s)
    {
        s.Message<ListObjects, W.ListObjects>("ls", W.ListObjects.Parser,
            m =>
            {
                var w = new W.ListObjects { Bucket = m.Bucket, Prefix = m.Prefix, Limit = m.Limit };
                if (m.StartAfter is not null) w.StartAfter = m.StartAfter;
                return w;
            },
            w => new(w.Bucket, w.Prefix, w.HasStartAfter ? w.StartAfter : null, w.Limit));
        s.Message<ObjectListing, W.ObjectListing>("lsok", W.ObjectListing.Parser,
            m => new() { Bucket = m.Bucket, Objects = { m.Objects.Select(Info) }, Truncated = m.Truncated },
            w => new(w.Bucket, w.Objects.Select(Info).ToList(), w.Truncated));
        s.Message<ListBuckets, W.ListBuckets>("lb", W.ListBuckets.Parser, _ => new(), _ => ListBuckets.Instance);
        s.Message<BucketListing, W.BucketListing>("lbok", W.BucketListing.Parser,
            m => new() { Buckets = { m.Buckets.Select(b => new W.BucketInfo { Name = b.Name, Objects = b.Objects, Bytes = b.Bytes }) } },
            w => new(w.Buckets.Select(b => new BucketInfo(b.Name, b.Objects, b.Bytes)).ToList()));
        s.Message<StatObject, W.StatObject>("stat", W.StatObject.Parser,
            m => new() { Bucket = m.Bucket, Key = m.Key, FirstChunk = m.FirstChunk },
            w => new(w.Bucket, w.Key, NonNegative(w.FirstChunk, "first chunk")));
        s.Message<ObjectDetails, W.ObjectDetails>("statok", W.ObjectDetails.Parser,
            m => new()
            {
                Object = Info(m.Object), FirstChunk = m.FirstChunk,
                Chunks = { m.Chunks.Select(c => new W.ChunkLocation { Id = Bytes(c.Id), Length = c.Length, Nodes = { c.Nodes } }) },
            },
            w => new(Info(w.Object),
                w.Chunks.Select(c => new ChunkLocation(Hash(c.Id, "chunk id"), NonNegative(c.Length, "chunk length"), c.Nodes.ToList())).ToList(),
                NonNegative(w.FirstChunk, "first chunk")));
        s.Message<DeleteObject, W.DeleteObject>("rm", W.DeleteObject.Parser, m => new() { Bucket = m.Bucket, Key = m.Key }, w => new(w.Bucket, w.Key));
        s.Message<ObjectDeleted, W.ObjectDeleted>("rmok", W.ObjectDeleted.Parser, m => new() { Bucket = m.Bucket, Key = m.Key }, w => new(w.Bucket, w.Key));
        s.Message<StoreError, W.StoreError>("err", W.StoreError.Parser, m => new() { Code = Code(m.Code), Message = m.Message }, w => new(Code(w.Code), w.Message));
        s.Message<ListMembers, W.ListMembers>("members", W.ListMembers.Parser, _ => new(), _ => ListMembers.Instance);
        s.Message<MemberListing, W.MemberListing>("membersok", W.MemberListing.Parser,
            m => new()
            {
                Members =
                {
                    m.Members.Select(i => new W.MemberInfo
                    {
                        Address = i.Address, Status = i.Status, Roles = { i.Roles }, NodeId = i.NodeId, Objects = i.Objects, Chunks = i.Chunks,
                    }),
                },
                Notice = m.Notice,
            },
            w => new(w.Members.Select(i => new MemberInfo(i.Address, i.Status, i.Roles.ToList(), i.NodeId, i.Objects, i.Chunks)).ToList(), w.Notice));
        s.Message<GetNodeStatus, W.GetNodeStatus>("status", W.GetNodeStatus.Parser, _ => new(), _ => GetNodeStatus.Instance);
        s.Message<NodeStatus, W.NodeStatus>("statusok", W.NodeStatus.Parser,
            m => new() { NodeId = m.NodeId, Objects = m.Objects, Chunks = m.Chunks }, w => new(w.NodeId, w.Objects, w.Chunks));
    }
}
