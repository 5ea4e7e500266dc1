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
        var failure = await TransferAllAsync(sizes, async i =>
        {
            await PutOneAsync(files[i].Path, address.Bucket, keys[i], files[i].Metadata, cancel);
            Interlocked.Increment(ref stored);
        }, cancel);
        if (cancel.IsCancellationRequested)
            return Fail($"put -r cancelled: {stored} of {files.Count} files stored (those printed above), none of the others");
        if (failure is not null) throw failure;
        output.Line($"put {files.Count} files, {Sizes.Human(sizes.Sum())} under {address.Bucket}/{prefix}");
        return ShellOutcome.Ok;
    }
}
