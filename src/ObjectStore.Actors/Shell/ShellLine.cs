using System.Text;

namespace ObjectStore.Actors.Shell;

/// <summary>Splits shell input into commands (on ';') and words (on spaces), honouring quotes and backslashes.</summary>
public static class ShellLine
{
    public static IReadOnlyList<string> SplitCommands(string script)
    {
        var commands = new List<string>();
        var current = new StringBuilder();
        char? quote = null;
        for (var i = 0; i < script.Length; i++)
        {
            var c = script[i];
            if (c == '\\' && i + 1 < script.Length && quote != '\'')
            {
                current.Append(c).Append(script[++i]);
                continue;
            }
            if (quote is null && (c == ';' || c == '\n'))
            {
                if (current.ToString().Trim().Length > 0) commands.Add(current.ToString().Trim());
                current.Clear();
                continue;
            }
            if (c is '"' or '\'') quote = quote == c ? null : quote ?? c;
            current.Append(c);
        }
        if (current.ToString().Trim().Length > 0) commands.Add(current.ToString().Trim());
        return commands;
    }

    public static IReadOnlyList<string> Words(string command)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        var inWord = false;
        char? quote = null;
        for (var i = 0; i < command.Length; i++)
        {
            var c = command[i];
            if (quote is null && char.IsWhiteSpace(c))
            {
                if (inWord) words.Add(current.ToString());
                current.Clear();
                inWord = false;
                continue;
            }
            inWord = true;
            if (c == '\\' && i + 1 < command.Length && quote != '\'')
            {
                current.Append(command[++i]);
                continue;
            }
            if (quote is null && c is '"' or '\'')
            {
                quote = c;
                continue;
            }
            if (quote == c)
            {
                quote = null;
                continue;
            }
            current.Append(c);
        }
        if (quote is not null) throw new FormatException($"unclosed {quote} quote");
        if (inWord) words.Add(current.ToString());
        return words;
    }
}
