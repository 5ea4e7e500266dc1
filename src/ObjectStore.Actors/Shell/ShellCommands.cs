using ObjectStore.Actors.Client;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Validation;

namespace ObjectStore.Actors.Shell;

/// <summary>The shell's commands. Every error is one line on the error output, starting with "error:".</summary>
public sealed partial class ShellCommands(StoreClient client, IShellOutput output)
{
    /// <summary>Below this size a transfer shows no progress bar.</summary>
    private const long ProgressThreshold = 8 * 1024 * 1024;

    public const string Help = """
        commands:
          put FILE BUCKET/KEY           store a file as an object
          put -r DIR BUCKET/PREFIX      store every file under DIR as PREFIX/relative/path
          get BUCKET/KEY FILE           fetch an object into FILE (or into FILE/ if it is a directory)
          get -r BUCKET/PREFIX DIR      fetch every object under PREFIX into DIR, recreating folders
          ls                            list buckets
          ls BUCKET[/PREFIX]            list objects
          stat BUCKET/KEY               size, SHA-256, version, chunks and where they are
          rm BUCKET/KEY                 delete an object
          members                       the cluster: address, status, roles, node id, objects, chunks
          status [--json]               self-healing: copies queued per node and peer, bytes to repair,
                                        repair rate and time left, last anti-entropy and scrub passes
          leave                         this node hands every copy it holds to the others, then leaves the cluster
          help                          this text
          exit                          leave the shell
        bucket names follow S3's rules (3-63 of a-z 0-9 . -); keys are up to 1024 bytes of UTF-8.
        """;

    public async Task<ShellOutcome> RunAsync(string line)
    {
        IReadOnlyList<string> words;
        try
        {
            words = ShellLine.Words(line);
        }
        catch (FormatException e)
        {
            return Fail(e.Message);
        }
        if (words.Count == 0) return ShellOutcome.Ok;
        try
        {
            return (words[0], words.Count) switch
            {
                ("help" or "?", _) => Print(Help),
                ("exit" or "quit", _) => ShellOutcome.Exit,
                ("put", 3) => await PutAsync(words[1], words[2]),
                ("put", 4) when words[1] == "-r" => await PutTreeAsync(words[2], words[3]),
                ("get", 3) => await GetAsync(words[1], words[2]),
                ("get", 4) when words[1] == "-r" => await GetTreeAsync(words[2], words[3]),
                ("ls", 1) => await ListBucketsAsync(),
                ("ls", 2) => await ListAsync(words[1]),
                ("stat", 2) => await StatAsync(words[1]),
                ("rm", 2) => await RemoveAsync(words[1]),
                ("members", 1) => await MembersAsync(),
                ("status", 1) => await StatusAsync(json: false),
                ("status", 2) when words[1] == "--json" => await StatusAsync(json: true),
                ("leave", 1) => await LeaveAsync(),
                ("put" or "get" or "ls" or "stat" or "rm" or "members" or "status" or "leave", _) => Fail($"wrong arguments for '{words[0]}'; see 'help'"),
                _ => Fail($"unknown command '{words[0]}'; type 'help' for the list"),
            };
        }
        catch (Exception e) when (e is StoreException or InvalidNameException or IOException or UnauthorizedAccessException)
        {
            return Fail(e.Message);
        }
    }

    private ShellOutcome Print(string text)
    {
        output.Line(text);
        return ShellOutcome.Ok;
    }

    private ShellOutcome Fail(string message)
    {
        output.Error($"error: {message}");
        return ShellOutcome.Failed;
    }

    private async Task<ShellOutcome> PutAsync(string file, string target)
    {
        var address = ObjectAddress.ParseObject(target);
        if (Directory.Exists(file)) return Fail($"{file} is a directory; use 'put -r {file} {target}'");
        if (!File.Exists(file)) return Fail($"{file}: no such file");
        await PutOneAsync(file, address.Bucket, address.Key);
        return ShellOutcome.Ok;
    }

    private async Task PutOneAsync(string file, string bucket, string key)
    {
        var size = new FileInfo(file).Length;
        StoreProtocol.PutCompleted done;
        // The bar is cleared before the result line is printed.
        using (var progress = size >= ProgressThreshold ? output.StartProgress($"put {bucket}/{key}", size) : null)
        {
            done = await client.PutFileAsync(file, bucket, key, progress);
            progress?.Report(size);
        }
        output.Line($"put {bucket}/{key}  {Sizes.Human(done.Object.Size)}  {done.Object.ChunkCount} chunks  " +
                    $"{Sizes.Human(done.NewChunkBytes)} new  sha256 {done.Object.Sha256}" +
                    (done.Durability.Length > 0 ? $"  ({done.Durability})" : ""));
    }

    private async Task<ShellOutcome> PutTreeAsync(string directory, string target)
    {
        if (!Directory.Exists(directory)) return Fail($"{directory}: no such directory");
        var address = ObjectAddress.ParsePrefix(target);
        var prefix = address.Key.Length == 0 || address.Key.EndsWith('/') ? address.Key : address.Key + "/";
        var files = Directory.EnumerateFiles(directory, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Order(StringComparer.Ordinal).ToList();
        // Check every key before sending anything, so a bad name does not leave half a tree stored.
        var keys = files.Select(f => prefix + Path.GetRelativePath(directory, f).Replace(Path.DirectorySeparatorChar, '/')).ToList();
        foreach (var key in keys) ObjectKey.Validate(key);
        long bytes = 0;
        // Small files go several at once: each put waits on fsyncs and network round trips, not on
        // bandwidth, so overlapping them is what makes a tree of small files fast (the nodes' group
        // commits then batch them). Files that travel inside one request go up to 32 at a time, larger
        // ones 4 (each holds up to chunks-in-flight chunks in a node's memory), and a file big enough
        // for a progress bar alone.
        var inFlight = new List<Task>();
        Exception? failure = null;
        for (var i = 0; i < files.Count && failure is null; i++)
        {
            var size = new FileInfo(files[i]).Length;
            var atOnce = size >= ProgressThreshold ? 1 : size <= client.SmallPutBytes ? SmallPutsAtOnce : PutsAtOnce;
            if (inFlight.Count >= atOnce) failure = await DrainAsync(inFlight, atOnce - 1);
            if (failure is not null) break;
            inFlight.Add(PutOneAsync(files[i], address.Bucket, keys[i]));
            bytes += size;
            if (atOnce == 1) failure = await DrainAsync(inFlight, 0);
        }
        failure ??= await DrainAsync(inFlight, 0);
        if (failure is not null) throw failure;
        output.Line($"put {files.Count} files, {Sizes.Human(bytes)} under {address.Bucket}/{prefix}");
        return ShellOutcome.Ok;
    }

    private const int SmallPutsAtOnce = 64;
    private const int PutsAtOnce = 4;

    /// <summary>Waits until at most <paramref name="left"/> puts are running; returns the first failure among those that ended.</summary>
    private static async Task<Exception?> DrainAsync(List<Task> inFlight, int left)
    {
        Exception? failure = null;
        while (inFlight.Count > left || (failure is not null && inFlight.Count > 0))
        {
            var done = await Task.WhenAny(inFlight);
            inFlight.Remove(done);
            if (done.IsFaulted) failure ??= done.Exception!.GetBaseException();
        }
        return failure;
    }

    private async Task<ShellOutcome> GetAsync(string source, string file)
    {
        var address = ObjectAddress.ParseObject(source);
        var target = Directory.Exists(file) ? Path.Combine(file, LastSegment(address.Key)) : file;
        var parent = Path.GetDirectoryName(Path.GetFullPath(target))!;
        if (!Directory.Exists(parent)) return Fail($"cannot write {file}: directory {parent} does not exist");
        await GetOneAsync(address.Bucket, address.Key, target);
        return ShellOutcome.Ok;
    }

    private async Task GetOneAsync(string bucket, string key, string target)
    {
        IShellProgress? progress = null;
        ObjectInfo info;
        try
        {
            info = await client.GetFileAsync(bucket, key, target,
                started: o => progress = o.Size >= ProgressThreshold ? output.StartProgress($"get {bucket}/{key}", o.Size) : null,
                progress: new Relay(() => progress));
            progress?.Report(info.Size);
        }
        finally
        {
            progress?.Dispose();
        }
        output.Line($"got {bucket}/{key} -> {target}  {Sizes.Human(info.Size)}  sha256 {info.Sha256}");
    }

    private async Task<ShellOutcome> GetTreeAsync(string source, string directory)
    {
        var address = ObjectAddress.ParsePrefix(source);
        var root = Path.GetFullPath(directory);
        var parent = Path.GetDirectoryName(root.TrimEnd(Path.DirectorySeparatorChar))!;
        if (!Directory.Exists(root) && !Directory.Exists(parent)) return Fail($"cannot write {directory}: directory {parent} does not exist");
        var prefix = address.Key;
        var objects = new List<(string Key, string Path)>();
        await foreach (var o in client.ListAllAsync(address.Bucket, prefix))
        {
            var relative = o.Key[prefix.Length..].TrimStart('/');
            var local = SafeLocalPath(root, relative.Length == 0 ? LastSegment(o.Key) : relative);
            if (local is null) return Fail($"object key '{o.Key}' cannot be written safely under {directory} (it has '..', an empty or absolute part)");
            objects.Add((o.Key, local));
        }
        if (objects.Count == 0) return Fail($"no objects under {address}");
        long bytes = 0;
        foreach (var (key, local) in objects)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(local)!);
            await GetOneAsync(address.Bucket, key, local);
            bytes += new FileInfo(local).Length;
        }
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

    private static string LastSegment(string key)
    {
        var name = key.TrimEnd('/');
        var slash = name.LastIndexOf('/');
        return slash < 0 ? name : name[(slash + 1)..];
    }

    private async Task<ShellOutcome> ListBucketsAsync()
    {
        var listing = await client.ListBucketsAsync();
        if (listing.Buckets.Count == 0) output.Line("(no buckets)");
        foreach (var b in listing.Buckets) output.Line($"{b.Name,-30} {b.Objects,8} objects  {Sizes.Human(b.Bytes),10}");
        return ShellOutcome.Ok;
    }

    private async Task<ShellOutcome> ListAsync(string target)
    {
        var address = ObjectAddress.ParsePrefix(target);
        var count = 0;
        await foreach (var o in client.ListAllAsync(address.Bucket, address.Key))
        {
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

    /// <summary>Forwards progress to a display that only exists once the download has started.</summary>
    private sealed class Relay(Func<IProgress<long>?> target) : IProgress<long>
    {
        public void Report(long value) => target()?.Report(value);
    }
}
