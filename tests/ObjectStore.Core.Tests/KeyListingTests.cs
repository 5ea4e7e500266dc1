using System.Text;
using FsCheck;
using Random = System.Random;
using FsCheck.Xunit;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Metadata;

namespace ObjectStore.Core.Tests;

/// <summary>
/// Listing page by page gives exactly the keys with the prefix in UTF-8 byte order, whatever the
/// keys (surrogate pairs, U+FFFF-range characters and U+10FFFF included) and wherever a page ends.
/// </summary>
public class KeyListingTests
{
    // Characters whose UTF-16 and UTF-8 orders disagree (U+E000, U+FFFD against surrogate pairs), the
    // largest code point (U+10FFFF, which has no successor) and the characters SQL LIKE would treat specially.
    private static readonly string[] Alphabet = ["a", "b", "/", "%", "_", "\uE000", "\uFFFD", "\U0001F600", "\U0010FFFF"];

    private static string RandomKey(Random random, int maxChars) =>
        string.Concat(Enumerable.Range(0, random.Next(1, maxChars + 1)).Select(_ => Alphabet[random.Next(Alphabet.Length)]));

    private static int Utf8Compare(string x, string y) => Encoding.UTF8.GetBytes(x).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(y));

    [Property(MaxTest = 300)]
    public Property Key_order_is_the_order_of_the_utf8_bytes(PositiveInt seed)
    {
        var random = new Random(seed.Get);
        var (x, y) = (RandomKey(random, 5), RandomKey(random, 5));
        return (Math.Sign(KeyOrder.Instance.Compare(x, y)) == Math.Sign(Utf8Compare(x, y))).Label($"{x} vs {y}");
    }

    [Property(MaxTest = 300)]
    public Property The_end_of_a_prefix_is_above_every_key_with_it_and_at_or_below_every_greater_key_without_it(PositiveInt seed)
    {
        var random = new Random(seed.Get);
        var (prefix, key) = (RandomKey(random, 3), RandomKey(random, 5));
        if (random.Next(2) == 0) key = prefix + key;
        var end = KeyOrder.EndOfPrefix(prefix);
        var startsWith = key.StartsWith(prefix, StringComparison.Ordinal);
        var ok = end is null
            ? prefix.All(c => "\U0010FFFF".Contains(c))
            : startsWith ? Utf8Compare(key, end) < 0 : Utf8Compare(key, prefix) < 0 || Utf8Compare(key, end) >= 0;
        return ok.Label($"prefix {prefix}, key {key}, end {end}");
    }

    [Property(MaxTest = 25)]
    public Property Listing_page_by_page_gives_every_key_with_the_prefix_once_in_order(PositiveInt seed)
    {
        var random = new Random(seed.Get);
        using var dir = new TempDirectory();
        using var index = new ObjectIndex(dir.Path);
        var keys = Enumerable.Range(0, 40).Select(_ => RandomKey(random, 4)).Distinct().ToList();
        var clock = 1_700_000_000_000L;
        index.CommitMany(keys.Select(k => new ObjectManifest("b", k, ObjectManifest.NewVersionId(), 1, ContentHash.Compute([1]),
            DateTimeOffset.FromUnixTimeMilliseconds(++clock), [new ChunkRef(ContentHash.Compute([1]), 1)], "node-a")).ToList());
        var deleted = keys.Where(_ => random.Next(4) == 0).ToList();
        foreach (var k in deleted) index.Delete(new DeleteMarker("b", k, ObjectManifest.NewVersionId(), DateTimeOffset.FromUnixTimeMilliseconds(++clock), "node-a"));
        var prefix = random.Next(3) == 0 ? "" : RandomKey(random, 2);
        var pageSize = random.Next(1, 8);

        var listed = new List<string>();
        var markers = new List<string>();
        string? after = null;
        while (true)
        {
            var page = index.List("b", prefix, pageSize, after).Select(o => o.Key).ToList();
            var upTo = page.Count == pageSize ? page[^1] : null;
            markers.AddRange(index.ListDeleteMarkers("b", prefix, after, upTo).Select(m => m.Key));
            listed.AddRange(page);
            if (upTo is null) break;
            after = upTo;
        }

        List<string> Expected(IEnumerable<string> all) => all.Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
            .Order(Comparer<string>.Create(Utf8Compare)).ToList();
        return (listed.SequenceEqual(Expected(keys.Except(deleted))) && markers.SequenceEqual(Expected(deleted)))
            .Label($"prefix {prefix}, page {pageSize}: listed [{string.Join(" ", listed)}], markers [{string.Join(" ", markers)}]");
    }
}
