using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;

namespace ObjectStore.Actors.Tests;

public class DeleteMarkerExpiryTests : StoreTestKit
{
    [Fact]
    public async Task A_node_drops_delete_markers_older_than_the_ttl_when_it_starts_and_keeps_recent_ones()
    {
        Settings = Settings with { Replication = Settings.Replication with { DeleteMarkerTtl = TimeSpan.FromDays(30) } };
        var now = DateTimeOffset.UtcNow;
        using (var index = new ObjectIndex(DataDirectory))
        {
            // Markers are kept only for keys that had a version; versions from long ago, without chunks.
            foreach (var key in new[] { "deleted-long-ago", "deleted-yesterday" })
                index.Commit(new ObjectManifest("photos", key, ObjectManifest.NewVersionId(), 0, ContentHash.Compute([]), now.AddDays(-60), [], "node-a"));
            index.Delete(new DeleteMarker("photos", "deleted-long-ago", ObjectManifest.NewVersionId(), now.AddDays(-31), "node-a"));
            index.Delete(new DeleteMarker("photos", "deleted-yesterday", ObjectManifest.NewVersionId(), now.AddDays(-1), "node-a"));
        }

        StartNode();

        await AwaitAssertAsync(() =>
        {
            using var index = new ObjectIndex(DataDirectory);
            Assert.Null(index.TryGetDeleteMarker("photos", "deleted-long-ago"));
            Assert.NotNull(index.TryGetDeleteMarker("photos", "deleted-yesterday"));
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));
    }
}
