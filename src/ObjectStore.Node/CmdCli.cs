using System.Text.Json;
using System.Text.Json.Nodes;
using ObjectStore.Actors.Commands;

namespace ObjectStore.Node;

/// <summary>
/// `objectstore cmd [HOST:PORT] [--json] [PALETTE COMMAND [ARGS]]`: one command and exit, or, without
/// one, a prompt with help, history and tab completion learnt from the host. Exit codes: 0 done, 1 the
/// command failed, 2 no host to talk to or bad usage. Every answer names the node that gave it.
/// </summary>
public static class CmdCli
{
    public const string Usage = """
        usage: objectstore cmd [HOST:PORT] [--json] [PALETTE COMMAND [ARGS]]
          HOST:PORT   the node's command host (objectstore.cmd.host/port; default 127.0.0.1:9110)
          --json      answers as JSON (one document; a streaming command prints one per line)
          without a command: a prompt ('help' lists the palettes, Tab completes, Ctrl+D leaves)
        """;

    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(string[] args)
    {
        var words = args.ToList();
        if (words.Contains("-h") || words.Contains("--help"))
        {
            Console.WriteLine(Usage);
            return 0;
        }
        var json = words.Remove("--json");
        var target = "127.0.0.1:9110";
        if (words.Count > 0 && LooksLikeAddress(words[0]))
        {
            target = words[0];
            words.RemoveAt(0);
        }
        if (!Commands.TryParseAddress(target, out var host, out var port))
        {
            Console.Error.WriteLine($"error: '{target}' is not HOST:PORT");
            return 2;
        }
        CommandClient client;
        try
        {
            client = await CommandClient.ConnectAsync(host, port, ReplyTimeout);
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
        using (client)
        {
            if (words.Count == 1)
            {
                Console.Error.WriteLine($"error: '{words[0]}' needs a command: objectstore cmd {target} {words[0]} COMMAND (or 'help')");
                return 2;
            }
            if (words.Count >= 2)
            {
                // JSON: a streaming command prints a document per line as it comes, any other one document at its end.
                var streaming = json && IsStreaming((await client.DescribeAsync()).Palettes, words[0], words[1]);
                return await RunOneAsync(client, words[0], words[1], words.Skip(2).ToList(), json, streaming);
            }
            return await PromptAsync(client, target, json);
        }
    }

    private static bool LooksLikeAddress(string word)
    {
        var colon = word.LastIndexOf(':');
        return colon > 0 && int.TryParse(word[(colon + 1)..], out _);
    }

    /// <summary>Runs one command and prints its answer; Ctrl+C ends a streaming one (exit 0).</summary>
    private static async Task<int> RunOneAsync(CommandClient client, string palette, string command, IReadOnlyList<string> args, bool json,
        bool streaming = false)
    {
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler stop = (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += stop;
        var results = new JsonArray();
        string? node = null;
        try
        {
            await foreach (var reply in client.RunAsync(palette, command, args, cancel.Token))
            {
                if (node is null && !json) Answered(reply.Node);
                node ??= reply.Node;
                if (reply.Error is not null)
                {
                    Console.Error.WriteLine($"error: {reply.Error}");
                    return 1;
                }
                if (json && streaming) Console.WriteLine(ToJson(reply.Node, [Result(reply)]).ToJsonString());
                else if (json) results.Add(Result(reply));
                else Print(reply);
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            return 0; // Ctrl+C ends a tail
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        finally
        {
            Console.CancelKeyPress -= stop;
        }
        if (json && results.Count > 0) Console.WriteLine(ToJson(node ?? "", results).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    private static async Task<int> PromptAsync(CommandClient client, string target, bool json)
    {
        var (node, palettes) = await client.DescribeAsync();
        if (Console.IsInputRedirected)
        {
            // Commands on stdin, one per line, as a script.
            while (Console.ReadLine() is { } line)
            {
                var words = Actors.Shell.ShellLine.Words(line);
                if (words.Count == 0) continue;
                if (words[0] is "exit" or "quit") return 0;
                if (words.Count < 2) { Console.Error.WriteLine($"error: '{line}' is not PALETTE COMMAND"); return 1; }
                if (await RunOneAsync(client, words[0], words[1], words.Skip(2).ToList(), json, IsStreaming(palettes, words[0], words[1])) != 0) return 1;
            }
            return 0;
        }
        Console.WriteLine($"objectstore cmd — connected to {node}; 'help' lists the palettes, Tab completes, 'exit' or Ctrl+D leaves.");
        var editor = new LineEditor(line => Completions(palettes, line));
        while (true)
        {
            Console.TreatControlCAsInput = true;
            string? line;
            try { line = editor.ReadLine($"[{target}] objectstore cmd> "); }
            finally { Console.TreatControlCAsInput = false; }
            if (line is null) return 0;
            IReadOnlyList<string> words;
            try { words = Actors.Shell.ShellLine.Words(line); }
            catch (FormatException e) { Console.Error.WriteLine($"error: {e.Message}"); continue; }
            if (words.Count == 0) continue;
            if (words[0] is "exit" or "quit") return 0;
            if (words[0] is "help" or "?")
            {
                Help(palettes, words.Count > 1 ? words[1] : null);
                continue;
            }
            if (words.Count < 2)
            {
                Console.Error.WriteLine($"error: '{words[0]}' needs a command; 'help {words[0]}' lists them");
                continue;
            }
            await RunOneAsync(client, words[0], words[1], words.Skip(2).ToList(), json, IsStreaming(palettes, words[0], words[1]));
        }
    }

    private static bool IsStreaming(IReadOnlyList<PaletteSpec> palettes, string palette, string command) =>
        palettes.FirstOrDefault(p => p.Name == palette)?.Commands.FirstOrDefault(c => c.Name == command)?.Streaming == true;

    /// <summary>Words that may come next: palettes, then their commands, then the command's switches.</summary>
    internal static IReadOnlyList<string> Completions(IReadOnlyList<PaletteSpec> palettes, string line)
    {
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        if (!line.EndsWith(' ') && words.Count > 0) words.RemoveAt(words.Count - 1); // the partial word
        return words.Count switch
        {
            0 => palettes.Select(p => p.Name).Concat(["help", "exit"]).ToList(),
            1 => palettes.FirstOrDefault(p => p.Name == words[0])?.Commands.Select(c => c.Name).ToList()
                 ?? (words[0] == "help" ? palettes.Select(p => p.Name).ToList() : []),
            _ => palettes.FirstOrDefault(p => p.Name == words[0])?.Commands.FirstOrDefault(c => c.Name == words[1])?.Switches.ToList() ?? [],
        };
    }

    private static void Help(IReadOnlyList<PaletteSpec> palettes, string? palette)
    {
        foreach (var p in palettes.Where(p => palette is null || p.Name == palette))
        {
            Console.WriteLine($"{p.Name} — {p.Description}");
            foreach (var c in p.Commands) Console.WriteLine($"  {c.Usage,-40} {c.Description}");
        }
        if (palette is not null && palettes.All(p => p.Name != palette)) Console.Error.WriteLine($"error: no palette '{palette}'");
    }

    private static void Answered(string node)
    {
        // On a terminal above the answer; piped, on stderr, so that stdout is only the answer's lines.
        if (Console.IsOutputRedirected) Console.Error.WriteLine($"# answered by {node}");
        else Console.WriteLine($"answered by {node}");
    }

    private static void Print(CommandReply reply)
    {
        if (reply.Text is { Length: > 0 } text) Console.WriteLine(text);
        if (reply.Table is not { } table) return;
        if (Console.IsOutputRedirected)
        {
            // Piped: tab-separated, a header line first; cells never hold tabs or newlines.
            Console.WriteLine(string.Join('\t', table.Columns));
            foreach (var row in table.Rows) Console.WriteLine(string.Join('\t', row.Select(c => c.Replace('\t', ' ').Replace('\n', ' '))));
            return;
        }
        var widths = table.Columns.Select((c, i) => Math.Max(c.Length, table.Rows.Select(r => i < r.Count ? r[i].Length : 0).DefaultIfEmpty(0).Max())).ToList();
        Console.WriteLine(string.Join("  ", table.Columns.Select((c, i) => c.PadRight(widths[i]))).TrimEnd());
        foreach (var row in table.Rows) Console.WriteLine(string.Join("  ", row.Select((c, i) => c.PadRight(widths[i]))).TrimEnd());
    }

    private static JsonObject ToJson(string node, JsonArray results) => new() { ["node"] = node, ["results"] = results };

    /// <summary>A field/value table becomes one object; any other table a list of row objects; numbers become numbers.</summary>
    private static JsonNode? Result(CommandReply reply)
    {
        if (reply.Table is not { } table) return JsonValue.Create(reply.Text ?? "");
        if (table.Columns is ["field", "value"])
        {
            var fields = new JsonObject();
            foreach (var row in table.Rows) fields[Camel(row[0])] = Value(row[1]);
            return fields;
        }
        var rows = new JsonArray();
        foreach (var row in table.Rows)
        {
            var o = new JsonObject();
            for (var i = 0; i < table.Columns.Count && i < row.Count; i++) o[Camel(table.Columns[i])] = Value(row[i]);
            rows.Add(o);
        }
        return rows;
    }

    private static JsonNode? Value(string cell) =>
        long.TryParse(cell, out var n) ? JsonValue.Create(n) : double.TryParse(cell, System.Globalization.CultureInfo.InvariantCulture, out var d) && cell.Contains('.') ? JsonValue.Create(d) : JsonValue.Create(cell);

    /// <summary>"chunks short of copies" → "chunksShortOfCopies".</summary>
    internal static string Camel(string name)
    {
        var parts = name.Split([' ', '/', '-'], StringSplitOptions.RemoveEmptyEntries);
        return string.Concat(parts.Select((p, i) => i == 0 ? p.ToLowerInvariant() : char.ToUpperInvariant(p[0]) + p[1..].ToLowerInvariant()));
    }
}
