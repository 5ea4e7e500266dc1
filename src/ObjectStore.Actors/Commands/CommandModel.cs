namespace ObjectStore.Actors.Commands;

/// <summary>A command of a palette as the client learns it: how to call it, what it does, its switches.</summary>
public sealed record CommandSpec(string Name, string Usage, string Description, IReadOnlyList<string> Switches, bool Streaming = false);

/// <summary>A palette: a named group of commands (cluster, actor, log, node, store, replication).</summary>
public sealed record PaletteSpec(string Name, string Description, IReadOnlyList<CommandSpec> Commands);

/// <summary>Rows under named columns; every cell a string (the client aligns, tabs or turns numbers into JSON numbers).</summary>
public sealed record CommandTable(IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<string>> Rows);

/// <summary>One piece of a command's answer: a table, a text, or an error.</summary>
public sealed record CommandOutput(CommandTable? Table = null, string? Text = null, string? Error = null)
{
    public static CommandOutput Of(CommandTable table) => new(Table: table);
    public static CommandOutput Of(string text) => new(Text: text);
    public static CommandOutput Failed(string error) => new(Error: error);
}

/// <summary>A reply as the client receives it: the answering node, and one of a table, a text, an error or the palettes.</summary>
public sealed record CommandReply(string Node, CommandTable? Table, string? Text, string? Error, IReadOnlyList<PaletteSpec>? Palettes, bool More);

/// <summary>A command's arguments: switches ("-d 3", "--all") and the positional rest.</summary>
public sealed record CommandArgs(IReadOnlyList<string> Positional, IReadOnlyDictionary<string, string?> Switches)
{
    /// <summary>Switches listed in <paramref name="valued"/> take the next word as their value; other known ones are flags.</summary>
    public static CommandArgs Parse(IReadOnlyList<string> words, CommandSpec command, IReadOnlySet<string> valued)
    {
        var positional = new List<string>();
        var switches = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var i = 0; i < words.Count; i++)
        {
            var word = words[i];
            if (!word.StartsWith('-') || word == "-")
            {
                positional.Add(word);
                continue;
            }
            if (!command.Switches.Contains(word))
                throw new FormatException($"unknown switch '{word}' for '{command.Name}'; usage: {command.Usage}");
            if (valued.Contains(word))
            {
                if (i + 1 >= words.Count) throw new FormatException($"'{word}' needs a value; usage: {command.Usage}");
                switches[word] = words[++i];
            }
            else switches[word] = null;
        }
        return new CommandArgs(positional, switches);
    }

    public bool Has(string name) => Switches.ContainsKey(name);

    public int Int(string name, int fallback)
    {
        if (!Switches.TryGetValue(name, out var value) || value is null) return fallback;
        return int.TryParse(value, out var n) && n >= 0 ? n : throw new FormatException($"{name} takes a number, got '{value}'");
    }
}

/// <summary>
/// A group of commands the host serves. A feature adds its palette to <see cref="CommandPalettes.BuiltIn"/>,
/// the one list the host reads.
/// </summary>
public interface ICommandPalette
{
    PaletteSpec Spec { get; }

    /// <summary>Switches that take a value (the others are flags).</summary>
    IReadOnlySet<string> ValuedSwitches => new HashSet<string>();

    /// <summary>Runs one command; a streaming one yields until <paramref name="cancel"/> (the client went away).</summary>
    IAsyncEnumerable<CommandOutput> RunAsync(string command, CommandArgs args, CommandContext context, CancellationToken cancel);
}
