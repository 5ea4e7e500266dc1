using System.Buffers;
using System.Text;

namespace ObjectStore.Core.Metadata;

/// <summary>
/// The order SQLite keeps keys in (memcmp of their UTF-8 bytes, which is Unicode code point order),
/// compared on the UTF-16 strings without encoding them: ordinal UTF-16 order differs from code point
/// order only where a surrogate meets a character of U+E000–U+FFFF, which the fix-up below swaps.
/// </summary>
public sealed class KeyOrder : IComparer<string?>
{
    public static readonly KeyOrder Instance = new();

    public int Compare(string? x, string? y)
    {
        if (x is null || y is null) return x is null ? (y is null ? 0 : -1) : 1;
        var common = Math.Min(x.Length, y.Length);
        for (var i = 0; i < common; i++)
        {
            int a = x[i], b = y[i];
            if (a == b) continue;
            if (a >= 0xD800 && b >= 0xD800)
            {
                a = CodePointRank(a);
                b = CodePointRank(b);
            }
            return a - b;
        }
        return x.Length - y.Length;
    }

    /// <summary>Surrogates (U+D800–U+DFFF, the halves of code points above U+FFFF) after U+E000–U+FFFF.</summary>
    private static int CodePointRank(int c) => c >= 0xE000 ? c - 0x800 : c + 0x2000;

    /// <summary>
    /// The smallest string greater than every string that starts with <paramref name="prefix"/>, or null
    /// when there is none (an empty prefix, one of only U+10FFFF, or one that is not valid UTF-16): its
    /// last code point incremented.
    /// </summary>
    public static string? EndOfPrefix(string prefix)
    {
        var end = prefix.AsSpan();
        while (!end.IsEmpty)
        {
            if (Rune.DecodeLastFromUtf16(end, out var last, out var length) != OperationStatus.Done) return null;
            end = end[..^length];
            if (last.Value == 0x10FFFF) continue;
            var next = new Rune(last.Value + 1 == 0xD800 ? 0xE000 : last.Value + 1);
            return string.Concat(end, next.ToString());
        }
        return null;
    }
}
