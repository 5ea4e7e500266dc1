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
        if (client.Linked && size > client.SmallPutBytes && size <= FromFileObjectBytes && await PutHandedOverAsync(file, bucket, key, metadata, cancel)) return;
        StoreProtocol.PutCompleted done;
        // The bar is cleared before the result line is printed.
        using (var progress = size >= ProgressThreshold ? output.StartProgress($"put {bucket}/{key}", size) : null)
        {
            done = await client.PutFileAsync(file, bucket, key, metadata, progress, cancel);
            progress?.Report(size);
        }
        PrintPut(bucket, key, done, cancel);
    }

    /// <summary>
    /// A file that one request does not carry but one chunk does, put over a link as a batch of one the node reads
    /// itself: a transfer session would start an actor system for it. (A tree's lone files come here too.) False when
    /// the file cannot be opened (the session's put says why, as it always did), the node would not take it (nothing
    /// was stored) or answered "alone" (larger than its chunks): the caller puts it with a session.
    /// </summary>
    private async Task<bool> PutHandedOverAsync(string file, string bucket, string key, FileMetadata? metadata, CancellationToken cancel)
    {
        Microsoft.Win32.SafeHandles.SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
        StoreProtocol.SmallPutsDone? done;
        using (handle)
            done = await client.PutSmallBatchFromFilesAsync([new StoreProtocol.PutSmallObject(bucket, key, ReadOnlyMemory<byte>.Empty, metadata)], [handle]);
        if (done is null) return false;
        if (!AnswersInOrder([key], done.Outcomes.Select(o => o.Key)))
            throw new StoreException(StoreErrorCode.Unavailable, $"the node answered the put of {bucket}/{key} with another object; it may or may not be stored");
        var outcome = done.Outcomes[0];
        if (outcome.Error is { } error) throw new StoreException(error.Code, error.Message);
        if (outcome.Done is not { } ok) return false;
        PrintPut(bucket, key, ok, cancel);
        return true;
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
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
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
        _fromFilesRefused = false; // asked again each command: a refusal may have been passing (a hand-over timed out)
        var units = FromFileBatches(sizes, keys);
        var failure = await TransferAllAsync(units.Count, u => units[u].Count > 1 ? SmallBatchesAtOnce : AtOnce(sizes[units[u][0]]), async u =>
        {
            if (units[u].Count == 1)
            {
                await PutOneAsync(files[units[u][0]].Path, address.Bucket, keys[units[u][0]], files[units[u][0]].Metadata, cancel);
                Interlocked.Increment(ref stored);
                return;
            }
            await PutFromFilesAsync(units[u].Select(i => (files[i].Path, keys[i], files[i].Metadata)).ToList(), address.Bucket,
                () => Interlocked.Increment(ref stored), cancel);
        }, cancel);
        if (cancel.IsCancellationRequested)
            return Fail($"put -r cancelled: {stored} of {files.Count} files stored (those printed above), none of the others");
        if (failure is not null) throw failure;
        output.Line($"put {TreeSummary.Of(files.Count, "files", sizes.Sum(), System.Diagnostics.Stopwatch.GetElapsedTime(started))} under {address.Bucket}/{prefix}");
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
        var sent = new List<(string Path, string Key, FileMetadata Metadata)>();
        var alone = new List<(string Path, string Key, FileMetadata Metadata)>();
        foreach (var f in files)
        {
            if (client.SmallFileBytes(f.Path) is not { } bytes)
            {
                alone.Add(f);
                continue;
            }
            objects.Add(new StoreProtocol.PutSmallObject(bucket, f.Key, bytes, f.Metadata));
            sent.Add(f);
        }
        var failed = new List<StoreProtocol.StoreError>();
        if (objects.Count > 0) TakePutOutcomes(sent, bucket, await client.PutSmallBatchAsync(objects), stored, failed, alone, cancel);
        await FinishBatchAsync(alone, failed, sent.Count, bucket, stored, cancel);
    }

    /// <summary>
    /// Small files of a tree put by a node on this machine reading them itself (one request, the files handed over in
    /// one message): the shell reads and sends no byte. A node that does not take files from here (another machine,
    /// its hand-over off, an earlier version) makes this and every later batch of the command send their bytes.
    /// </summary>
    private async Task PutFromFilesAsync(IReadOnlyList<(string Path, string Key, FileMetadata Metadata)> files, string bucket, Action stored,
        CancellationToken cancel)
    {
        if (_fromFilesRefused)
        {
            await PutInlineAsync(files, bucket, stored, cancel);
            return;
        }
        var handles = new List<Microsoft.Win32.SafeHandles.SafeFileHandle>();
        var sent = new List<(string Path, string Key, FileMetadata Metadata)>();
        var alone = new List<(string Path, string Key, FileMetadata Metadata)>();
        var failed = new List<StoreProtocol.StoreError>();
        try
        {
            foreach (var f in files)
            {
                try
                {
                    handles.Add(File.OpenHandle(f.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
                    sent.Add(f);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    alone.Add(f); // a put of its own says what is wrong with it
                }
            }
            if (sent.Count > 0)
            {
                var objects = sent.Select(f => new StoreProtocol.PutSmallObject(bucket, f.Key, ReadOnlyMemory<byte>.Empty, f.Metadata)).ToList();
                if (await client.PutSmallBatchFromFilesAsync(objects, handles) is not { } done)
                {
                    _fromFilesRefused = true;
                    await PutInlineAsync(files, bucket, stored, cancel);
                    return;
                }
                TakePutOutcomes(sent, bucket, done, stored, failed, alone, cancel);
            }
        }
        finally
        {
            foreach (var handle in handles) handle.Dispose();
        }
        await FinishBatchAsync(alone, failed, sent.Count, bucket, stored, cancel);
    }

    /// <summary>The end of a batch: the files it left to a put of their own are put, then the batch fails if any of it did.</summary>
    private async Task FinishBatchAsync(List<(string Path, string Key, FileMetadata Metadata)> alone, List<StoreProtocol.StoreError> failed,
        int batched, string bucket, Action stored, CancellationToken cancel)
    {
        foreach (var f in alone)
        {
            await PutOneAsync(f.Path, bucket, f.Key, f.Metadata, cancel);
            stored();
        }
        if (failed.Count > 0)
            throw new StoreException(StoreErrorCodes.SingleOr(failed.Select(e => e.Code)),
                $"{failed.Count} of {batched} objects in a batch were not stored (named above)");
    }

    /// <summary>Set once a node would not take this shell's files: the rest of the command sends their bytes.</summary>
    private volatile bool _fromFilesRefused;

    /// <summary>Files sent with their bytes: frame-sized batches, the larger ones one by one.</summary>
    private async Task PutInlineAsync(IReadOnlyList<(string Path, string Key, FileMetadata Metadata)> files, string bucket, Action stored,
        CancellationToken cancel)
    {
        var sizes = files.Select(f => new FileInfo(f.Path) is { Exists: true } info ? info.Length : 0).ToList();
        await RunPiecesAsync(SmallFileBatches(sizes, files.Select(f => f.Key).ToList()), async unit =>
        {
            if (unit.Count > 1) await PutBatchAsync(unit.Select(i => files[i]).ToList(), bucket, stored, cancel);
            else
            {
                await PutOneAsync(files[unit[0]].Path, bucket, files[unit[0]].Key, files[unit[0]].Metadata, cancel);
                stored();
            }
        }, cancel);
    }

    /// <summary>A batch's answers, in the order of the files sent: the stored ones printed, each failed one named, those left to a put of their own collected.</summary>
    private void TakePutOutcomes(IReadOnlyList<(string Path, string Key, FileMetadata Metadata)> sent, string bucket, StoreProtocol.SmallPutsDone done,
        Action stored, List<StoreProtocol.StoreError> failed, List<(string Path, string Key, FileMetadata Metadata)> alone, CancellationToken cancel)
    {
        if (!AnswersInOrder(sent.Select(f => f.Key), done.Outcomes.Select(o => o.Key)))
            throw new StoreException(StoreErrorCode.Unavailable,
                $"the node answered a batch of {sent.Count} puts ({bucket}/{sent[0].Key} ...) with other objects; they may or may not be stored");
        for (var i = 0; i < sent.Count; i++)
        {
            var outcome = done.Outcomes[i];
            if (outcome.Done is { } ok)
            {
                PrintPut(outcome.Bucket, outcome.Key, ok, cancel);
                stored();
            }
            else if (outcome.Error is { } error)
            {
                output.Error(error.Message);
                failed.Add(error);
            }
            else alone.Add(sent[i]);
        }
    }
}
