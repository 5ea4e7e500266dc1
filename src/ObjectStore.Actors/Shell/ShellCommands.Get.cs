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
        if (client.Linked && await GetHandedOverAsync(bucket, key, target, preserve)) return;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
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
        // An object large enough for a progress bar also says how long its get took.
        Got(bucket, key, target, info, preserve, info.Size >= ProgressThreshold ? System.Diagnostics.Stopwatch.GetElapsedTime(started) : null);
    }

    /// <summary>
    /// One object got over a link as a batch of one written by the node into this shell's temp file, as a tree's small
    /// objects are: a transfer session would start an actor system for it, and its size is not known before (a tree's
    /// lone objects come here too). False
    /// when the node would not take the file or answered "alone" (larger than a batch): the caller gets it with a session.
    /// </summary>
    private async Task<bool> GetHandedOverAsync(string bucket, string key, string target, bool preserve)
    {
        using var file = NewTarget(target);
        var (found, handedOver) = await client.GetSmallBatchIntoFilesAsync(bucket, [key], [file.HandleForNode]);
        if (found is null) return false;
        if (!AnswersInOrder([key], found.Outcomes.Select(o => o.Key)))
            throw new StoreException(StoreErrorCode.Unavailable, $"the node answered the get of {bucket}/{key} with another object; nothing was written");
        var outcome = found.Outcomes[0];
        if (outcome.Error is { } error) throw new StoreException(error.Code, error.Message);
        if (outcome.InFile && !handedOver)
            throw new StoreException(StoreErrorCode.InvalidRequest, $"the node says it wrote {bucket}/{key} into a file this shell did not hand over");
        if (!outcome.Whole && !outcome.InFile) return false;
        Complete(file, outcome, bucket, target);
        Got(bucket, key, target, outcome.Object!, preserve);
        return true;
    }

    /// <summary>An object of a batch written into its temp file (by the node, or here from the reply) renamed onto its target.</summary>
    private static void Complete(DownloadTarget target, StoreProtocol.SmallGetOutcome outcome, string bucket, string local)
    {
        try
        {
            if (outcome.InFile) target.CompleteWrittenByNode(outcome.Object!, $"{bucket}/{outcome.Key}", null);
            else
            {
                target.Write(outcome.Data.Span);
                target.Complete(outcome.Object!, $"{bucket}/{outcome.Key}");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreException(StoreErrorCode.InvalidRequest, $"cannot write {local}: {e.Message}");
        }
    }

    private void Got(string bucket, string key, string target, ObjectInfo info, bool preserve, TimeSpan? took = null)
    {
        if (preserve && info.File is { } metadata) LocalFile.Restore(target, metadata);
        var line = $"got {bucket}/{key} -> {target}  {Sizes.Human(info.Size)}  sha256 {info.Sha256}";
        output.Line(took is { } elapsed ? $"{line}  {TreeSummary.Took(info.Size, elapsed)}" : line);
    }

    /// <summary>
    /// Small objects in one request. Each comes whole and is written as a single get writes (a temp file
    /// renamed onto the target once its size and hash are the object's); one the node could not fit in its
    /// reply is got on its own; each failed one is named with its reason, and then the batch fails.
    /// </summary>
    private async Task GetBatchAsync(IReadOnlyList<(string Key, string Path, long Size)> items, string bucket, bool preserve, Action<long> written,
        LocalDirectories directories, CancellationToken cancel)
    {
        var found = await client.GetSmallBatchAsync(bucket, items.Select(i => i.Key).ToList());
        foreach (var item in TakeBatch(items, found, null, bucket, preserve, written, directories, cancel))
            await GetOnItsOwnAsync(item, bucket, preserve, written, directories, cancel);
    }

    private async Task GetOnItsOwnAsync((string Key, string Path, long Size) item, string bucket, bool preserve, Action<long> written,
        LocalDirectories directories, CancellationToken cancel)
    {
        directories.Ensure(item.Path);
        await GetOneAsync(bucket, item.Key, item.Path, preserve, cancel);
        written(item.Size);
    }

    /// <summary>
    /// Objects of a tree written by the node straight into this shell's temp files (one request, a node on this
    /// machine): each renamed onto its target once its size is the object's (the node checked every chunk against
    /// its id). A node that cannot take files from here (another machine, or a node of an earlier version, which
    /// answers inline) makes the rest of the command go inline instead: frame-sized batches, the larger objects one by one.
    /// </summary>
    private async Task GetIntoFilesAsync(IReadOnlyList<(string Key, string Path, long Size)> items, string bucket, bool preserve, Action<long> written,
        LocalDirectories directories, CancellationToken cancel)
    {
        var inline = items;
        if (!_intoFilesRefused)
        {
            var targets = new List<DownloadTarget>();
            try
            {
                foreach (var (_, local, _) in items)
                {
                    directories.Ensure(local);
                    targets.Add(NewTarget(local));
                }
                var (found, handedOver) = await client.GetSmallBatchIntoFilesAsync(bucket, items.Select(i => i.Key).ToList(),
                    targets.Select(t => t.HandleForNode).ToList());
                if (!handedOver) _intoFilesRefused = true;
                if (found is not null) inline = TakeBatch(items, found, handedOver ? targets : null, bucket, preserve, written, directories, cancel);
            }
            finally
            {
                foreach (var t in targets) t.Dispose();
            }
        }
        await RunPiecesAsync(SmallFileBatches(inline.Select(i => i.Size).ToList(), inline.Select(i => i.Key).ToList()), unit => unit.Count > 1
            ? GetBatchAsync(unit.Select(i => inline[i]).ToList(), bucket, preserve, written, directories, cancel)
            : GetOnItsOwnAsync(inline[unit[0]], bucket, preserve, written, directories, cancel), cancel);
    }

    /// <summary>Set once a node would not take this shell's files: the rest of the command gets inline.</summary>
    private volatile bool _intoFilesRefused;

    /// <summary>
    /// A batch's answers: each object written by the node into its temp file (<paramref name="targets"/>, when handed
    /// over) or inline is renamed onto its target; each failed one is named with its reason, and then the batch
    /// fails. Returns those too large for the batch, to be got otherwise.
    /// </summary>
    private List<(string Key, string Path, long Size)> TakeBatch(IReadOnlyList<(string Key, string Path, long Size)> items, StoreProtocol.SmallObjectsFound found, IReadOnlyList<DownloadTarget>? targets,
        string bucket, bool preserve, Action<long> written, LocalDirectories directories, CancellationToken cancel)
    {
        if (!AnswersInOrder(items.Select(i => i.Key), found.Outcomes.Select(o => o.Key)))
            throw new StoreException(StoreErrorCode.Unavailable, $"the node answered a batch of {items.Count} gets with other objects; nothing of it was written");
        var failed = new List<StoreProtocol.StoreError>();
        var alone = new List<(string Key, string Path, long Size)>();
        for (var i = 0; i < items.Count; i++)
        {
            cancel.ThrowIfCancellationRequested();
            var ((key, local, _), outcome) = (items[i], found.Outcomes[i]);
            if (outcome.Error is { } error)
            {
                output.Error($"get of {bucket}/{key} failed: {error.Message}");
                failed.Add(error);
                continue;
            }
            directories.Ensure(local);
            if (outcome.InFile && targets is null)
                throw new StoreException(StoreErrorCode.InvalidRequest, $"the node says it wrote {bucket}/{key} into a file this shell did not hand over");
            if (!outcome.Whole && !outcome.InFile)
            {
                targets?[i].Dispose();
                alone.Add((key, local, outcome.Object!.Size));
                continue;
            }
            var target = targets?[i] ?? NewTarget(local);
            try
            {
                Complete(target, outcome, bucket, local);
            }
            finally
            {
                if (targets is null) target.Dispose();
            }
            Got(bucket, key, local, outcome.Object!, preserve);
            written(outcome.Object!.Size);
        }
        if (failed.Count > 0)
            throw new StoreException(StoreErrorCodes.SingleOr(failed.Select(e => e.Code)),
                $"{failed.Count} of {items.Count} objects in a batch could not be got (named above)");
        return alone;
    }

    private static DownloadTarget NewTarget(string local)
    {
        try
        {
            return new DownloadTarget(local);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreException(StoreErrorCode.InvalidRequest, $"cannot write {local}: {e.Message}");
        }
    }

    private async Task<ShellOutcome> GetTreeAsync(string source, string directory, bool force, bool preserve, CancellationToken cancel)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
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
        void Written(long size)
        {
            Interlocked.Add(ref bytes, size);
            Interlocked.Increment(ref written);
        }
        var directories = new LocalDirectories();
        _intoFilesRefused = false; // asked again each command: a refusal may have been passing (a hand-over timed out)
        var units = FileBatches(objects.Select(o => o.Size).ToList(), objects.Select(o => o.Key).ToList());
        var failure = await TransferAllAsync(units.Count, u => units[u].Count > 1 ? FileBatchesAtOnce : AtOnce(objects[units[u][0]].Size), u => units[u].Count > 1
            ? GetIntoFilesAsync(units[u].Select(i => objects[i]).ToList(), address.Bucket, preserve, Written, directories, cancel)
            : GetOnItsOwnAsync(objects[units[u][0]], address.Bucket, preserve, Written, directories, cancel), cancel);
        if (cancel.IsCancellationRequested)
            return Fail($"get -r cancelled: {written} of {objects.Count} files written (those printed above), none half written");
        if (failure is not null) throw failure;
        output.Line($"got {TreeSummary.Of(objects.Count, "objects", bytes, System.Diagnostics.Stopwatch.GetElapsedTime(started))} into {directory}");
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
