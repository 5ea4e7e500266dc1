using ObjectStore.Actors.Client;
using ObjectStore.Core.Validation;

namespace ObjectStore.Actors.Shell;

/// <summary>
/// The shell's commands (their usage and help: <see cref="ShellCommandTable"/>). Every error is one line on
/// the error output, starting with "error:". A command ends early, leaving nothing half done, when the
/// token passed to <see cref="RunAsync"/> is cancelled (Ctrl+C).
/// </summary>
public sealed partial class ShellCommands(StoreClient client, IShellOutput output)
{
    /// <summary>Below this size a transfer shows no progress bar.</summary>
    private const long ProgressThreshold = 8 * 1024 * 1024;

    public static string Help => ShellCommandTable.Help;

    public async Task<ShellOutcome> RunAsync(string line, CancellationToken cancel = default)
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
        if (ShellCommandTable.Find(words[0]) is not { } command) return Fail($"unknown command '{words[0]}'; type 'help' for the list");
        try
        {
            var args = ShellArguments.Parse(command, words.Skip(1));
            var n = args.Positional.Count;
            var p = args.Positional;
            ShellOutcome? outcome = (command.Name, n) switch
            {
                ("help", 0) => Print(ShellCommandTable.Help),
                ("help", 1) => ShellCommandTable.Find(p[0]) is { } asked ? Print(ShellCommandTable.HelpFor(asked)) : Fail($"unknown command '{p[0]}'; type 'help' for the list"),
                ("exit", 0) => ShellOutcome.Exit,
                ("put", 2) when args.Has("-r") => await PutTreeAsync(p[0], p[1], cancel),
                ("put", 2) => await PutAsync(p[0], p[1], cancel),
                ("get", 2) when args.Has("-r") => await GetTreeAsync(p[0], p[1], args.Has("--force"), !args.Has("--no-preserve"), cancel),
                ("get", 2) => await GetAsync(p[0], p[1], args.Has("--force"), !args.Has("--no-preserve"), cancel),
                ("ls", 0) => await ListBucketsAsync(),
                ("ls", 1) => await ListAsync(p[0], cancel),
                ("stat", 1) => await StatAsync(p[0]),
                ("rm", 1) => await RemoveAsync(p[0]),
                ("members", 0) => await MembersAsync(),
                ("status", 0) => await StatusAsync(args.Has("--json")),
                ("leave", 0) => await LeaveAsync(),
                _ => null,
            };
            return outcome ?? Fail($"wrong arguments for '{command.Name}'; usage: {ShellCommandTable.UsageLine(command)}");
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            return Fail($"{command.Name} cancelled");
        }
        catch (Exception e) when (e is StoreException or InvalidNameException or IOException or UnauthorizedAccessException or FormatException)
        {
            return Fail(e.Message);
        }
    }

    /// <summary>
    /// As <see cref="RunAsync"/>; an exception nobody expected (a bug) is printed as an error too, so the shell
    /// goes on (or a script stops) instead of ending without a word.
    /// </summary>
    public async Task<ShellOutcome> RunReportingAsync(string line, CancellationToken cancel = default)
    {
        try
        {
            return await RunAsync(line, cancel);
        }
        catch (Exception e)
        {
            output.Error($"error: {e.Message}");
            return ShellOutcome.Failed;
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

    private static string LastSegment(string key)
    {
        var name = key.TrimEnd('/');
        var slash = name.LastIndexOf('/');
        return slash < 0 ? name : name[(slash + 1)..];
    }

    private const int SmallTransfersAtOnce = 64;
    /// <summary>
    /// Objects above a frame and below the progress bar's 8 MiB in flight at once. 16 against the 4 before: the SDK
    /// tree's get -r 2.0–2.6 s against 1.8–2.3 s and its put -r 4.5–4.9 s against 3.4–4.2 s (one node, the values
    /// alternating; 32 and 64 no better than 16 for the get). Each holds at most its own size in a node's memory
    /// (its chunks in flight, or read ahead), so at most 16 × 8 MiB.
    /// </summary>
    private const int TransfersAtOnce = 16;
    /// <summary>
    /// Batches of small puts or gets in flight: of 4 KiB files about 14 a batch, some 110 objects at once
    /// (against 64 single small transfers before); 16 and 32 made no difference to a one-node get -r of
    /// 2,000 × 4 KiB (0.36–0.44 s each, the values alternating).
    /// </summary>
    private const int SmallBatchesAtOnce = 8;

    /// <summary>
    /// The transfers of a tree (put -r, get -r), item by item in order, several at once: each transfer of a
    /// small object waits on fsyncs and round trips, not on bandwidth, so overlapping them is what makes a
    /// tree of small files fast (the nodes' group commits then batch them). Objects that travel inside one
    /// request go up to 64 at a time, larger ones 16 (<see cref="TransfersAtOnce"/>), and one big enough for a
    /// progress bar alone. Stops starting new ones at the first failure
    /// or a cancel; returns the first failure once every started one has ended, or null.
    /// </summary>
    private Task<Exception?> TransferAllAsync(IReadOnlyList<long> sizes, Func<int, Task> start, CancellationToken cancel) =>
        TransferAllAsync(sizes.Count, i => AtOnce(sizes[i]), start, cancel);

    private int AtOnce(long size) => size >= ProgressThreshold ? 1 : size <= client.SmallPutBytes ? SmallTransfersAtOnce : TransfersAtOnce;

    /// <param name="atOnceOf">How many transfers may run while item i starts.</param>
    private async Task<Exception?> TransferAllAsync(int count, Func<int, int> atOnceOf, Func<int, Task> start, CancellationToken cancel)
    {
        var inFlight = new List<Task>();
        Exception? failure = null;
        for (var i = 0; i < count && failure is null && !cancel.IsCancellationRequested; i++)
        {
            var atOnce = atOnceOf(i);
            if (inFlight.Count >= atOnce) failure = await DrainAsync(inFlight, atOnce - 1);
            if (failure is not null) break;
            inFlight.Add(start(i));
            if (atOnce == 1) failure = await DrainAsync(inFlight, 0);
        }
        return failure ?? await DrainAsync(inFlight, 0);
    }

    /// <summary>
    /// The pieces (frame batches, single transfers) of one batch that goes inline after all — the node would not
    /// take this shell's files (a shell on another machine) — a few at once: with <see cref="FileBatchesAtOnce"/>
    /// or <see cref="SmallBatchesAtOnce"/> such batches that is as many in flight as a tree had before batches of
    /// files (<see cref="TransfersAtOnce"/>); one by one it was half. One batch's pieces hold at most its bytes.
    /// Throws the first failure once every started piece has ended.
    /// </summary>
    private async Task RunPiecesAsync(List<List<int>> pieces, Func<List<int>, Task> run, CancellationToken cancel)
    {
        if (await TransferAllAsync(pieces.Count, _ => PiecesAtOnce, p => run(pieces[p]), cancel) is { } failure)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        cancel.ThrowIfCancellationRequested();
    }

    private const int PiecesAtOnce = TransfersAtOnce / FileBatchesAtOnce;

    /// <summary>
    /// The items of a tree (put -r, get -r) in the order they go: consecutive small ones together, up to 64
    /// (<see cref="Protocol.StoreProtocol.PutSmallObjects.MaxObjects"/>, <see cref="Protocol.StoreProtocol.GetSmallObjects.MaxKeys"/>)
    /// costing one frame in all (<see cref="Protocol.SmallBatches"/>: their bytes and keys); each other alone.
    /// </summary>
    private List<List<int>> SmallFileBatches(IReadOnlyList<long> sizes, IReadOnlyList<string> keys) =>
        Batches(sizes.Count, i => Protocol.SmallBatches.Cost(sizes[i], keys[i]) is var cost && cost <= client.SmallPutBytes ? cost : null,
            _ => 0, client.SmallPutBytes, keyBudget: client.SmallPutBytes);

    /// <summary>
    /// The objects of a get -r in the order they go when the node writes them into this shell's files: consecutive
    /// ones up to <see cref="FileObjectBytes"/> together, up to 64 and <see cref="Protocol.StoreProtocol.GetSmallObjects.FileBatchBytes"/>
    /// of data with keys costing at most a frame (the request); each other alone.
    /// </summary>
    private List<List<int>> FileBatches(IReadOnlyList<long> sizes, IReadOnlyList<string> keys) =>
        Batches(sizes.Count, i => sizes[i] <= FileObjectBytes ? sizes[i] : null, i => Protocol.SmallBatches.KeyCost(keys[i]),
            Protocol.StoreProtocol.GetSmallObjects.FileBatchBytes, keyBudget: client.SmallPutBytes);

    /// <summary>
    /// The files of a put -r in the order they go when the node reads them itself: consecutive ones of at most
    /// <see cref="FromFileObjectBytes"/> together, up to 64, 4 MiB and keys costing a frame (the request); each other alone.
    /// </summary>
    private List<List<int>> FromFileBatches(IReadOnlyList<long> sizes, IReadOnlyList<string> keys) =>
        Batches(sizes.Count, i => sizes[i] <= FromFileObjectBytes ? sizes[i] : null, i => Protocol.SmallBatches.KeyCost(keys[i]),
            FromFileBatchBytes, keyBudget: client.SmallPutBytes);

    /// <summary>
    /// Files up to this size go in batches the node reads itself: one chunk at the chunker's default minimum (a node
    /// with smaller chunks answers the larger ones "put it on its own"). The SDK tree: 3,424 of its 3,658 files,
    /// against 3,041 of at most a frame.
    /// </summary>
    private const long FromFileObjectBytes = 256 * 1024;

    /// <summary>What one such batch holds in the node at once; with <see cref="SmallBatchesAtOnce"/> of them, 32 MiB.</summary>
    private const long FromFileBatchBytes = 4L * 1024 * 1024;

    /// <summary>
    /// Objects up to this size go in batches written into this shell's files: half a batch, so that a batch carries
    /// at least two. The SDK tree: 3,642 of its 3,658 files.
    /// </summary>
    private const long FileObjectBytes = Protocol.StoreProtocol.GetSmallObjects.FileBatchBytes / 2;

    /// <summary>
    /// Batches written into files in flight at once: each holds up to 8 MiB in the node while it reads.
    /// </summary>
    private const int FileBatchesAtOnce = 8;

    /// <param name="costOf">An item's cost against <paramref name="budget"/>, or null when it goes alone.</param>
    /// <param name="keyCostOf">An item's cost against <paramref name="keyBudget"/> (what its key costs in the request).</param>
    private static List<List<int>> Batches(int count, Func<int, long?> costOf, Func<int, long> keyCostOf, long budget, long keyBudget)
    {
        var units = new List<List<int>>();
        List<int>? batch = null;
        long cost = 0, keyCost = 0;
        for (var i = 0; i < count; i++)
        {
            var itemKeyCost = keyCostOf(i);
            if (costOf(i) is not { } itemCost || itemKeyCost > keyBudget)
            {
                units.Add([i]);
                batch = null;
                continue;
            }
            if (batch is null || batch.Count == Protocol.StoreProtocol.PutSmallObjects.MaxObjects || cost + itemCost > budget || keyCost + itemKeyCost > keyBudget)
            {
                units.Add(batch = []);
                (cost, keyCost) = (0, 0);
            }
            batch.Add(i);
            cost += itemCost;
            keyCost += itemKeyCost;
        }
        return units;
    }

    /// <summary>A batch's reply names exactly the objects it was asked for, in the same order.</summary>
    private static bool AnswersInOrder(IEnumerable<string> asked, IEnumerable<string> answered) => asked.SequenceEqual(answered, StringComparer.Ordinal);

    /// <summary>Waits until at most <paramref name="left"/> transfers are running; returns the first failure among those that ended.</summary>
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

    /// <summary>Forwards progress to a display that only exists once the transfer has started.</summary>
    private sealed class Relay(Func<IProgress<long>?> target) : IProgress<long>
    {
        public void Report(long value) => target()?.Report(value);
    }
}
