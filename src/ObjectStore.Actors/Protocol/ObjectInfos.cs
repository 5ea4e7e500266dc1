using ObjectStore.Core.Metadata;

namespace ObjectStore.Actors.Protocol;

/// <summary>An object as the shell sees it, from what the index knows.</summary>
public static class ObjectInfos
{
    public static ObjectInfo Of(ObjectManifest m) =>
        new(m.Bucket, m.Key, m.VersionId, m.Size, m.Sha256, m.Created.ToUnixTimeMilliseconds(), m.Chunks.Count, m.Writer, m.File);

    public static ObjectInfo Of(ObjectSummary s) =>
        new(s.Bucket, s.Key, s.VersionId, s.Size, s.Sha256, s.Created.ToUnixTimeMilliseconds(), s.ChunkCount, s.Writer, s.File);
}
