using System.Text;

namespace ObjectStore.Node;

/// <summary>
/// Reads a line on a terminal with history (up/down) and the usual editing keys. Written by hand:
/// .NET's Console.ReadLine has no history on Unix, and no maintained package on the registry offers a
/// small readline for .NET.
/// </summary>
public sealed class LineEditor
{
    private readonly List<string> _history = [];
    private readonly Func<string, IReadOnlyList<string>>? _complete;

    /// <param name="complete">Tab completion: the words that may follow the line so far (its last, partial word included).</param>
    public LineEditor(Func<string, IReadOnlyList<string>>? complete = null) => _complete = complete;

    public string? ReadLine(string prompt)
    {
        Console.Write(prompt);
        var line = new StringBuilder();
        var cursor = 0;
        var historyIndex = _history.Count;
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            switch (key.Key)
            {
                case ConsoleKey.Enter:
                    Console.WriteLine();
                    var text = line.ToString();
                    if (text.Trim().Length > 0 && (_history.Count == 0 || _history[^1] != text)) _history.Add(text);
                    return text;
                case ConsoleKey.Backspace when cursor > 0:
                    line.Remove(--cursor, 1);
                    break;
                case ConsoleKey.Delete when cursor < line.Length:
                    line.Remove(cursor, 1);
                    break;
                case ConsoleKey.LeftArrow when cursor > 0:
                    cursor--;
                    break;
                case ConsoleKey.RightArrow when cursor < line.Length:
                    cursor++;
                    break;
                case ConsoleKey.Home:
                    cursor = 0;
                    break;
                case ConsoleKey.End:
                    cursor = line.Length;
                    break;
                case ConsoleKey.UpArrow when historyIndex > 0:
                    line.Clear().Append(_history[--historyIndex]);
                    cursor = line.Length;
                    break;
                case ConsoleKey.DownArrow when historyIndex < _history.Count:
                    historyIndex++;
                    line.Clear().Append(historyIndex < _history.Count ? _history[historyIndex] : "");
                    cursor = line.Length;
                    break;
                case ConsoleKey.Tab when _complete is not null && cursor == line.Length:
                    Complete(prompt, line);
                    cursor = line.Length;
                    break;
                case ConsoleKey.D when key.Modifiers.HasFlag(ConsoleModifiers.Control) && line.Length == 0:
                    Console.WriteLine();
                    return null;
                case ConsoleKey.C when key.Modifiers.HasFlag(ConsoleModifiers.Control):
                    Console.WriteLine("^C");
                    return "";
                default:
                    if (!char.IsControl(key.KeyChar)) line.Insert(cursor++, key.KeyChar);
                    break;
            }
            Redraw(prompt, line, cursor);
        }
    }

    /// <summary>One candidate: the word is completed; several: their common prefix, and the list below the line.</summary>
    private void Complete(string prompt, StringBuilder line)
    {
        var text = line.ToString();
        var partial = text[(text.LastIndexOf(' ') + 1)..];
        var candidates = _complete!(text).Where(c => c.StartsWith(partial, StringComparison.Ordinal)).Distinct().Order(StringComparer.Ordinal).ToList();
        if (candidates.Count == 0) return;
        var common = candidates.Aggregate((a, b) => a[..Enumerable.Range(0, Math.Min(a.Length, b.Length)).TakeWhile(i => a[i] == b[i]).Count()]);
        line.Append(common[partial.Length..]);
        if (candidates.Count == 1) line.Append(' ');
        else
        {
            Console.WriteLine();
            Console.WriteLine(string.Join("  ", candidates));
        }
    }

    private static void Redraw(string prompt, StringBuilder line, int cursor)
    {
        // Carriage return, prompt and text, clear to end of line, then move back to the cursor.
        Console.Write($"\r{prompt}{line}\u001b[K");
        var back = line.Length - cursor;
        if (back > 0) Console.Write($"\u001b[{back}D");
    }
}
