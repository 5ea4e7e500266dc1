using System.Globalization;

namespace ObjectStore.Actors.Shell;

/// <summary>
/// The last line of a put -r or get -r: how much, and how long it took from the command's start (listing
/// included) with the rate, as restic and borg end theirs — what an operator compares runs with. A single
/// large get ends its line with the time and rate too.
/// </summary>
internal static class TreeSummary
{
    /// <summary>"in 1.52 s (673.6 MiB/s)": what a single large transfer's line ends with.</summary>
    public static string Took(long bytes, TimeSpan elapsed)
    {
        var seconds = Seconds(elapsed);
        return string.Create(CultureInfo.InvariantCulture, $"in {seconds:0.00} s ({Sizes.Human((long)(bytes / seconds))}/s)");
    }

    public static string Of(int count, string noun, long bytes, TimeSpan elapsed)
    {
        var seconds = Seconds(elapsed);
        return string.Create(CultureInfo.InvariantCulture,
            $"{count} {noun}, {Sizes.Human(bytes)} in {seconds:0.00} s ({count / seconds:#,0} {noun}/s, {Sizes.Human((long)(bytes / seconds))}/s)");
    }

    /// <summary>At least a millisecond: a command over within the clock's resolution still gets a finite rate.</summary>
    private static double Seconds(TimeSpan elapsed) => Math.Max(elapsed.TotalSeconds, 0.001);
}
