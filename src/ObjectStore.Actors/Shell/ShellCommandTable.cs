namespace ObjectStore.Actors.Shell;

/// <summary>One shell command: its usage lines, what it does, and the options it takes.</summary>
public sealed record ShellCommandSpec(string Name, string[] Usages, string Summary, string[] Options, string Details = "");

/// <summary>Every shell command, the one place its usage and help text are written.</summary>
public static class ShellCommandTable
{
    public static readonly IReadOnlyList<ShellCommandSpec> All =
    [
        new("put", ["put FILE BUCKET[/KEY]", "put FILE BUCKET/PREFIX/", "put -r DIR BUCKET[/PREFIX]", "put - BUCKET/KEY"],
            "store a file (key: KEY, else PREFIX/ or nothing plus the file's name), a tree, or stdin",
            ["-r"],
            """
            The file's mode and modification time are kept with the object; get gives them back.
            put -r stores every file under DIR as PREFIX/relative/path (empty folders are not stored).
            FILE may be a FIFO, or - for the shell's stdin: read to its end (at most stream-input-limit),
            waiting at most idle-timeout for data. Devices and sockets are refused.
            Ctrl+C cancels a put on the node too: nothing is stored.
            """),
        new("get", ["get BUCKET/KEY FILE", "get BUCKET/KEY DIR/", "get -r BUCKET[/PREFIX] DIR"],
            "fetch an object into FILE (or DIR/its name), or every object under PREFIX into DIR",
            ["-r", "--force", "--no-preserve"],
            """
            An existing file is not overwritten unless --force is given. The object's mode and
            modification time are restored unless --no-preserve is given. A get writes a temp file
            beside the target and renames it once the whole object's size and SHA-256 match: a failed
            or cancelled (Ctrl+C) get leaves no half file.
            """),
        new("ls", ["ls", "ls BUCKET[/PREFIX]"], "list buckets, or the objects of a bucket under a prefix", []),
        new("stat", ["stat BUCKET/KEY"], "size, SHA-256, version, file metadata, chunks and the nodes holding each", []),
        new("rm", ["rm BUCKET/KEY"], "delete an object", []),
        new("members", ["members"], "the cluster: address, status, roles, node id, objects, chunks", []),
        new("status", ["status [--json]"], "self-healing: copies queued per node, bytes to repair, rate, time left, last anti-entropy and scrub", ["--json"]),
        new("leave", ["leave"], "this node hands every copy it holds to the others, then leaves the cluster", []),
        new("help", ["help [COMMAND]"], "the list of commands, or one command in full", []),
        new("exit", ["exit"], "leave the shell (also Ctrl+D)", []),
    ];

    public static ShellCommandSpec? Find(string name) => All.FirstOrDefault(c => c.Name == name || (name == "quit" && c.Name == "exit") || (name == "?" && c.Name == "help"));

    /// <summary>"put FILE BUCKET[/KEY] | put -r DIR ...": every usage of a command on one line, for an error.</summary>
    public static string UsageLine(ShellCommandSpec command) => string.Join(" | ", command.Usages);

    public static string Help
    {
        get
        {
            var width = All.SelectMany(c => c.Usages).Max(u => u.Length) + 2;
            var lines = new List<string> { "commands:" };
            foreach (var command in All)
                for (var i = 0; i < command.Usages.Length; i++)
                    lines.Add($"  {command.Usages[i].PadRight(width)}{(i == 0 ? command.Summary : "")}".TrimEnd());
            lines.Add("'help COMMAND' tells more; bucket names follow S3's rules (3-63 of a-z 0-9 . -); keys are up to 1024 bytes of UTF-8.");
            lines.Add("Ctrl+C cancels the running command; at the prompt it clears the line.");
            return string.Join(Environment.NewLine, lines);
        }
    }

    public static string HelpFor(ShellCommandSpec command)
    {
        var lines = command.Usages.Select(u => "usage: " + u).ToList();
        lines.Add(command.Summary);
        if (command.Details.Length > 0) lines.Add(command.Details.TrimEnd());
        return string.Join(Environment.NewLine, lines);
    }
}

/// <summary>A command line's words after the command: its options (those the command takes) and the rest in order.</summary>
public sealed record ShellArguments(IReadOnlyList<string> Positional, IReadOnlySet<string> Options)
{
    /// <summary>Splits words into options and positional arguments; "-" alone is a positional (stdin), "--" ends the options.</summary>
    public static ShellArguments Parse(ShellCommandSpec command, IEnumerable<string> words)
    {
        var positional = new List<string>();
        var options = new HashSet<string>(StringComparer.Ordinal);
        var optionsEnded = false;
        foreach (var word in words)
        {
            if (!optionsEnded && word == "--")
            {
                optionsEnded = true;
                continue;
            }
            if (optionsEnded || word == "-" || !word.StartsWith('-'))
            {
                positional.Add(word);
                continue;
            }
            if (!command.Options.Contains(word))
                throw new FormatException(command.Options.Length == 0
                    ? $"'{command.Name}' takes no option '{word}'; usage: {ShellCommandTable.UsageLine(command)}"
                    : $"unknown option '{word}' for '{command.Name}' (it takes {string.Join(", ", command.Options)}); usage: {ShellCommandTable.UsageLine(command)}");
            options.Add(word);
        }
        return new ShellArguments(positional, options);
    }

    public bool Has(string option) => Options.Contains(option);
}
