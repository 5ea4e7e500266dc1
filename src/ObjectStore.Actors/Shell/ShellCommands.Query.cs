using ObjectStore.Core.Validation;

namespace ObjectStore.Actors.Shell;

/// <summary>The shell's commands that read or remove objects without moving their bytes: ls, stat, rm.</summary>
public sealed partial class ShellCommands
{
    private async Task<ShellOutcome> ListBucketsAsync()
    {
        var listing = await client.ListBucketsAsync();
        if (listing.Buckets.Count == 0) output.Line("(no buckets)");
        foreach (var b in listing.Buckets) output.Line($"{b.Name,-30} {b.Objects,8} objects  {Sizes.Human(b.Bytes),10}");
        return ShellOutcome.Ok;
    }

    private async Task<ShellOutcome> ListAsync(string target, CancellationToken cancel)
    {
        var address = ObjectAddress.ParsePrefix(target);
        var count = 0;
        await foreach (var o in client.ListAllAsync(address.Bucket, address.Key))
        {
            cancel.ThrowIfCancellationRequested();
            var created = DateTimeOffset.FromUnixTimeMilliseconds(o.CreatedUnixMs).ToLocalTime();
            output.Line($"{Sizes.Human(o.Size),10}  {created:yyyy-MM-dd HH:mm:ss}  {o.Key}");
            count++;
        }
        if (count == 0) output.Line($"(no objects under {address})");
        return ShellOutcome.Ok;
    }

    private async Task<ShellOutcome> StatAsync(string target)
    {
        var address = ObjectAddress.ParseObject(target);
        var details = await client.StatAsync(address.Bucket, address.Key);
        var o = details.Object;
        output.Line($"object   {o.Bucket}/{o.Key}");
        output.Line($"size     {o.Size} ({Sizes.Human(o.Size)})");
        output.Line($"sha256   {o.Sha256}");
        output.Line($"version  {o.VersionId}");
        output.Line($"created  {DateTimeOffset.FromUnixTimeMilliseconds(o.CreatedUnixMs):u}");
        if (o.File is { } file) output.Line($"file     mode {Convert.ToString(file.Mode, 8).PadLeft(4, '0')}, modified {file.Modified:yyyy-MM-dd HH:mm:ss.fffffff}Z");
        output.Line($"chunks   {o.ChunkCount}");
        for (var i = 0; i < details.Chunks.Count; i++)
        {
            var c = details.Chunks[i];
            var where = c.Nodes.Count == 0 ? "MISSING" : string.Join(",", c.Nodes);
            output.Line($"  {i,5}  {c.Id}  {c.Length,9}  {where}");
        }
        return ShellOutcome.Ok;
    }

    private async Task<ShellOutcome> RemoveAsync(string target)
    {
        var address = ObjectAddress.ParseObject(target);
        await client.DeleteAsync(address.Bucket, address.Key);
        output.Line($"removed {address}");
        return ShellOutcome.Ok;
    }
}
