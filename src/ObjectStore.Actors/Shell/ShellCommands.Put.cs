using ObjectStore.Actors.Client;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Storage;
using ObjectStore.Core.Validation;

namespace ObjectStore.Actors.Shell;

/// <summary>put: a file, stdin or a FIFO (spooled first), or a tree; each keeps the file's mode and modification time.</summary>
public sealed partial class ShellCommands
{
    private async Task<ShellOutcome> PutAsync(string file, string target, CancellationToken cancel)
    {
        if (file == "-")
        {
            // The key is checked before a byte of stdin is read: bad input changes nothing.
            var address = ObjectAddress.ParseObject(target);
            using var spool = await SpooledInput.ReadAsync(Console.OpenStandardInput, "stdin", null,
                client.Settings.StreamInputLimit, client.Settings.IdleTimeout, cancel);
            await PutOneAsync(spool.Path, address.Bucket, address.Key, null, cancel);
            return ShellOutcome.Ok;
        }
        var (kind, metadata) = LocalFile.Stat(file);
        switch (kind)
        {
            case LocalFileKind.Missing: return Fail($"{file}: no such file");
            case LocalFileKind.Directory: return Fail($"{file} is a directory; use 'put -r {file} {target}'");
            case LocalFileKind.Regular:
            {
                var address = ObjectAddress.ParseTargetFor(target, Path.GetFileName(file));
                await PutOneAsync(file, address.Bucket, address.Key, metadata, cancel);
                return ShellOutcome.Ok;
            }
            case LocalFileKind.Fifo:
            {
                var address = ObjectAddress.ParseTargetFor(target, Path.GetFileName(file));
                using var spool = await SpooledInput.ReadAsync(() => new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 0),
                    file, file, client.Settings.StreamInputLimit, client.Settings.IdleTimeout, cancel);
                // A stream has no mode or time of its own to keep (the FIFO's are not its data's).
                await PutOneAsync(spool.Path, address.Bucket, address.Key, null, cancel);
                return ShellOutcome.Ok;
            }
            default: return Fail(NotStorable(file, kind));
        }
    }

    private static string NotStorable(string file, LocalFileKind kind) =>
        $"{file} is a {KindName(kind)}, not a file; put takes regular files, a FIFO, or - for stdin";

    private static string KindName(LocalFileKind kind) => kind switch
    {
        LocalFileKind.CharacterDevice => "character device",
        LocalFileKind.BlockDevice => "block device",
        LocalFileKind.Socket => "socket",
        LocalFileKind.Fifo => "FIFO",
        _ => "special file",
    };

    private async Task PutOneAsync(string file, string bucket, string key, FileMetadata? metadata, CancellationToken cancel)
    {
        var size = new FileInfo(file).Length;
        StoreProtocol.PutCompleted done;
        // The bar is cleared before the result line is printed.
        using (var progress = size >= ProgressThreshold ? output.StartProgress($"put {bucket}/{key}", size) : null)
        {
            done = await client.PutFileAsync(file, bucket, key, metadata, progress, cancel);
            progress?.Report(size);
        }
        PrintPut(bucket, key, done, cancel);
    }

    private void PrintPut(string bucket, string key, StoreProtocol.PutCompleted done, CancellationToken cancel)
    {
        output.Line($"put {bucket}/{key}  {Sizes.Human(done.Object.Size)}  {done.Object.ChunkCount} chunks  " +
                    $"{Sizes.Human(done.NewChunkBytes)} new  sha256 {done.Object.Sha256}" +
                    (done.Durability.Length > 0 ? $"  ({done.Durability})" : "") +
                    (cancel.IsCancellationRequested ? "  (the cancel came after the node had committed it)" : ""));
    }

    private async Task<ShellOutcome> PutTreeAsync(string directory, string target, CancellationToken cancel)
    {
        if (!Directory.Exists(directory)) return Fail($"{directory}: no such directory");
        var address = ObjectAddress.ParsePrefix(target);
        var prefix = address.Key.Length == 0 || address.Key.EndsWith('/') ? address.Key : address.Key + "/";
        var files = new List<(string Path, FileMetadata Metadata)>();
        foreach (var path in Directory.EnumerateFiles(directory, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
                     .Order(StringComparer.Ordinal))
        {
            var (kind, metadata) = LocalFile.Stat(path);
            // A FIFO, socket or device in a tree would block or never end: only files are stored, the rest named.
            if (kind == LocalFileKind.Regular) files.Add((path, metadata));
            else if (kind != LocalFileKind.Missing) output.Error($"warning: skipped {path}: a {KindName(kind)}");
        }
        // Check every key before sending anything, so a bad name does not leave half a tree stored.
        var keys = files.Select(f => prefix + Path.GetRelativePath(directory, f.Path).Replace(Path.DirectorySeparatorChar, '/')).ToList();
        foreach (var key in keys) ObjectKey.Validate(key);
        var sizes = files.Select(f => new FileInfo(f.Path).Length).ToArray();
        var stored = 0;
        var units = SmallFileBatches(sizes, keys);
        var failure = await TransferAllAsync(units.Count, u => units[u].Count > 1 ? SmallBatchesAtOnce : AtOnce(sizes[units[u][0]]), async u =>
        {
            if (units[u].Count == 1)
            {
                await PutOneAsync(files[units[u][0]].Path, address.Bucket, keys[units[u][0]], files[units[u][0]].Metadata, cancel);
                Interlocked.Increment(ref stored);
                return;
            }
            await PutBatchAsync(units[u].Select(i => (files[i].Path, keys[i], files[i].Metadata)).ToList(), address.Bucket, () => Interlocked.Increment(ref stored), cancel);
        }, cancel);
        if (cancel.IsCancellationRequested)
            return Fail($"put -r cancelled: {stored} of {files.Count} files stored (those printed above), none of the others");
        if (failure is not null) throw failure;
        output.Line($"put {files.Count} files, {Sizes.Human(sizes.Sum())} under {address.Bucket}/{prefix}");
        return ShellOutcome.Ok;
    }

    /// <summary>
    /// Small files in one request. Each is stored whole or not at all: the stored ones are printed, each
    /// failed one is named with its reason, and then the batch fails saying how many did. A file that grew
    /// past the request's size since it was listed goes on its own.
    /// </summary>
    private async Task PutBatchAsync(IReadOnlyList<(string Path, string Key, FileMetadata Metadata)> files, string bucket, Action stored, CancellationToken cancel)
    {
        var objects = new List<StoreProtocol.PutSmallObject>();
        var alone = new List<(string Path, string Key, FileMetadata Metadata)>();
        foreach (var f in files)
        {
            if (client.SmallFileBytes(f.Path) is { } bytes) objects.Add(new StoreProtocol.PutSmallObject(bucket, f.Key, bytes, f.Metadata));
            else alone.Add(f);
        }
        var failed = new List<StoreProtocol.StoreError>();
        if (objects.Count > 0)
        {
            var done = await client.PutSmallBatchAsync(objects);
            if (!AnswersInOrder(objects.Select(o => o.Key), done.Outcomes.Select(o => o.Key)))
                throw new StoreException(StoreErrorCode.Unavailable,
                    $"the node answered a batch of {objects.Count} puts ({bucket}/{objects[0].Key} ...) with other objects; they may or may not be stored");
            foreach (var outcome in done.Outcomes)
            {
                if (outcome.Done is { } ok)
                {
                    PrintPut(outcome.Bucket, outcome.Key, ok, cancel);
                    stored();
                }
                else
                {
                    output.Error(outcome.Error!.Message);
                    failed.Add(outcome.Error);
                }
            }
        }
        foreach (var f in alone)
        {
            await PutOneAsync(f.Path, bucket, f.Key, f.Metadata, cancel);
            stored();
        }
        if (failed.Count > 0)
            throw new StoreException(StoreErrorCodes.SingleOr(failed.Select(e => e.Code)),
                $"{failed.Count} of {objects.Count} objects in a batch were not stored (named above)");
    }
}
