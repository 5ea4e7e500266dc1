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
        Got(bucket, key, target, info, preserve);
    }

    private void Got(string bucket, string key, string target, ObjectInfo info, bool preserve)
    {
        if (preserve && info.File is { } metadata) LocalFile.Restore(target, metadata);
        output.Line($"got {bucket}/{key} -> {target}  {Sizes.Human(info.Size)}  sha256 {info.Sha256}");
    }

    /// <summary>
    /// Small objects in one request. Each comes whole and is written as a single get writes (a temp file
    /// renamed onto the target once its size and hash are the object's); one the node could not fit in its
    /// reply is got on its own; each failed one is named with its reason, and then the batch fails.
    /// </summary>
    private async Task GetBatchAsync(IReadOnlyList<(string Key, string Path)> items, string bucket, bool preserve, Action<string> written,
        CancellationToken cancel)
    {
        var found = await client.GetSmallBatchAsync(bucket, items.Select(i => i.Key).ToList());
        if (!AnswersInOrder(items.Select(i => i.Key), found.Outcomes.Select(o => o.Key)))
            throw new StoreException(StoreErrorCode.Unavailable, $"the node answered a batch of {items.Count} gets with other objects; nothing of it was written");
        var failed = new List<StoreProtocol.StoreError>();
        foreach (var ((key, local), outcome) in items.Zip(found.Outcomes))
        {
            cancel.ThrowIfCancellationRequested();
            if (outcome.Error is { } error)
            {
                output.Error($"get of {bucket}/{key} failed: {error.Message}");
                failed.Add(error);
                continue;
            }
            Directory.CreateDirectory(Path.GetDirectoryName(local)!);
            if (!outcome.Whole) await GetOneAsync(bucket, key, local, preserve, cancel);
            else
            {
                try
                {
                    using var target = new DownloadTarget(local);
                    target.Write(outcome.Data.Span);
                    target.Complete(outcome.Object!, $"{bucket}/{key}");
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new StoreException(StoreErrorCode.InvalidRequest, $"cannot write {local}: {e.Message}");
                }
                Got(bucket, key, local, outcome.Object!, preserve);
            }
            written(local);
        }
        if (failed.Count > 0)
            throw new StoreException(StoreErrorCodes.SingleOr(failed.Select(e => e.Code)),
                $"{failed.Count} of {items.Count} objects in a batch could not be got (named above)");
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
        var units = SmallFileBatches(objects.Select(o => o.Size).ToList(), objects.Select(o => o.Key).ToList());
        var failure = await TransferAllAsync(units.Count, u => units[u].Count > 1 ? SmallBatchesAtOnce : AtOnce(objects[units[u][0]].Size), async u =>
        {
            void Written(string local)
            {
                Interlocked.Add(ref bytes, new FileInfo(local).Length);
                Interlocked.Increment(ref written);
            }
            if (units[u].Count > 1)
            {
                await GetBatchAsync(units[u].Select(i => (objects[i].Key, objects[i].Path)).ToList(), address.Bucket, preserve, Written, cancel);
                return;
            }
            var (key, local, _) = objects[units[u][0]];
            Directory.CreateDirectory(Path.GetDirectoryName(local)!);
            await GetOneAsync(address.Bucket, key, local, preserve, cancel);
            Written(local);
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
