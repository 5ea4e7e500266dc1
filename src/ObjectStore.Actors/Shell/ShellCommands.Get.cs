using ObjectStore.Actors.Client;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Storage;
using ObjectStore.Core.Validation;

namespace ObjectStore.Actors.Shell;

/// <summary>get: one object or a tree; an existing file is kept unless --force; mode and modification time restored unless --no-preserve.</summary>
public sealed partial class ShellCommands
{
    private async Task<ShellOutcome> GetAsync(string source, string file, bool force, bool preserve, CancellationToken cancel)
    {
        var address = ObjectAddress.ParseObject(source);
        var target = Directory.Exists(file) || file.EndsWith('/') ? Path.Combine(file, LastSegment(address.Key)) : file;
        var parent = Path.GetDirectoryName(Path.GetFullPath(target))!;
        if (!Directory.Exists(parent)) return Fail($"cannot write {target}: directory {parent} does not exist");
        if (Directory.Exists(target)) return Fail($"cannot write {target}: it is a directory");
        if (File.Exists(target) && !force) return Fail($"{target} exists; 'get --force' overwrites it");
        await GetOneAsync(address.Bucket, address.Key, target, preserve, cancel);
        return ShellOutcome.Ok;
    }

    private async Task GetOneAsync(string bucket, string key, string target, bool preserve, CancellationToken cancel)
    {
        IShellProgress? progress = null;
        ObjectInfo info;
        try
        {
            info = await client.GetFileAsync(bucket, key, target,
                started: o => progress = o.Size >= ProgressThreshold ? output.StartProgress($"get {bucket}/{key}", o.Size) : null,
                progress: new Relay(() => progress), cancel: cancel);
            progress?.Report(info.Size);
        }
        finally
        {
            progress?.Dispose();
        }
        if (preserve && info.File is { } metadata) LocalFile.Restore(target, metadata);
        output.Line($"got {bucket}/{key} -> {target}  {Sizes.Human(info.Size)}  sha256 {info.Sha256}");
    }

    private async Task<ShellOutcome> GetTreeAsync(string source, string directory, bool force, bool preserve, CancellationToken cancel)
    {
        var address = ObjectAddress.ParsePrefix(source);
        var root = Path.GetFullPath(directory);
        var parent = Path.GetDirectoryName(root.TrimEnd(Path.DirectorySeparatorChar))!;
        if (!Directory.Exists(root) && !Directory.Exists(parent)) return Fail($"cannot write {directory}: directory {parent} does not exist");
        var prefix = address.Key;
        var objects = new List<(string Key, string Path, long Size)>();
        await foreach (var o in client.ListAllAsync(address.Bucket, prefix))
        {
            cancel.ThrowIfCancellationRequested();
            var relative = o.Key[prefix.Length..].TrimStart('/');
            var local = SafeLocalPath(root, relative.Length == 0 ? LastSegment(o.Key) : relative);
            if (local is null) return Fail($"object key '{o.Key}' cannot be written safely under {directory} (it has '..', an empty or absolute part)");
            objects.Add((o.Key, local, o.Size));
        }
        if (objects.Count == 0) return Fail($"no objects under {address}");
        // Checked before the first byte: a get -r either writes every file or, refused, none.
        var existing = objects.Where(o => File.Exists(o.Path)).ToList();
        if (existing.Count > 0 && !force)
            return Fail($"{existing.Count} of the {objects.Count} files exist already (the first: {existing[0].Path}); 'get -r --force' overwrites them");
        long bytes = 0;
        var written = 0;
        var failure = await TransferAllAsync(objects.Select(o => o.Size).ToArray(), async i =>
        {
            var (key, local, _) = objects[i];
            Directory.CreateDirectory(Path.GetDirectoryName(local)!);
            await GetOneAsync(address.Bucket, key, local, preserve, cancel);
            Interlocked.Add(ref bytes, new FileInfo(local).Length);
            Interlocked.Increment(ref written);
        }, cancel);
        if (cancel.IsCancellationRequested)
            return Fail($"get -r cancelled: {written} of {objects.Count} files written (those printed above), none half written");
        if (failure is not null) throw failure;
        output.Line($"got {objects.Count} objects, {Sizes.Human(bytes)} into {directory}");
        return ShellOutcome.Ok;
    }

    /// <summary>Maps a key to a path under root, or null when the key would escape root or name nothing.</summary>
    internal static string? SafeLocalPath(string root, string relativeKey)
    {
        var parts = relativeKey.Split('/');
        if (parts.Any(p => p.Length == 0 || p == "." || p == ".." || p.Contains('\\'))) return null;
        var path = Path.GetFullPath(Path.Combine([root, .. parts]));
        return path.StartsWith(root.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal) ? path : null;
    }
}
