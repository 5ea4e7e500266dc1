using System.Globalization;

namespace ObjectStore.Actors;

/// <summary>
/// HOCON's durations ("30s", "500 ms", "2 minutes") and sizes ("64KiB", "16GiB", "128000b") read as Akka reads
/// them (Config.GetTimeSpan, Config.GetByteSize, the same units; SettingsTests checks the two agree), except that a
/// size beyond a long is an error here.
/// </summary>
/// <remarks>
/// Why by hand: Akka's GetTimeSpan builds a compiled regular expression on first use, ~25 ms of a shell
/// script's start (dotnet-trace), which over the local link is otherwise ~0.1 s in all.
/// </remarks>
internal static class HoconUnits
{
    private static readonly (string[] Units, double Milliseconds)[] DurationUnits =
    [
        (["ns", "nano", "nanos", "nanosecond", "nanoseconds"], 1e-6),
        (["micro", "micros", "microsecond", "microseconds"], 1e-3),
        (["ms", "milli", "millis", "millisecond", "milliseconds"], 1),
        (["s", "second", "seconds"], 1000),
        (["m", "minute", "minutes"], 60_000),
        (["h", "hour", "hours"], 3_600_000),
        (["d", "day", "days"], 86_400_000),
    ];

    private static readonly (string[] Suffixes, long Factor)[] SizeUnits =
    [
        (["E", "e", "Ei", "EiB", "exbibyte", "exbibytes"], 1L << 60),
        (["EB", "exabyte", "exabytes"], 1_000_000_000_000_000_000),
        (["P", "p", "Pi", "PiB", "pebibyte", "pebibytes"], 1L << 50),
        (["PB", "petabyte", "petabytes"], 1_000_000_000_000_000),
        (["T", "t", "Ti", "TiB", "tebibyte", "tebibytes"], 1L << 40),
        (["TB", "terabyte", "terabytes"], 1_000_000_000_000),
        (["G", "g", "Gi", "GiB", "gibibyte", "gibibytes"], 1L << 30),
        (["GB", "gigabyte", "gigabytes"], 1_000_000_000),
        (["M", "m", "Mi", "MiB", "mebibyte", "mebibytes"], 1L << 20),
        (["MB", "megabyte", "megabytes"], 1_000_000),
        (["K", "k", "Ki", "KiB", "kibibyte", "kibibytes"], 1024),
        (["kB", "kilobyte", "kilobytes"], 1000),
        (["b", "B", "byte", "bytes"], 1),
    ];

    /// <summary>A duration; a number without a unit is milliseconds.</summary>
    /// <exception cref="FormatException">Not a number with a known unit, or negative.</exception>
    public static TimeSpan Duration(string text)
    {
        var (number, unit) = Split(text);
        var value = Positive(number);
        if (unit.Length == 0) return TimeSpan.FromMilliseconds(value);
        foreach (var (units, milliseconds) in DurationUnits)
            if (Array.IndexOf(units, unit) >= 0) return TimeSpan.FromMilliseconds(value * milliseconds);
        throw new FormatException($"'{unit}' is not a unit of time (ms, s, m, h, d ...)");
    }

    /// <summary>A size in bytes: a whole number, without a unit bytes.</summary>
    /// <exception cref="FormatException">Not a whole number with a known unit.</exception>
    /// <exception cref="OverflowException">Beyond a long (where Akka returns a wrapped-around number).</exception>
    public static long Bytes(string text)
    {
        var (number, unit) = Split(text);
        var value = long.Parse(number, NumberStyles.Integer, CultureInfo.InvariantCulture);
        if (unit.Length == 0) return value;
        foreach (var (suffixes, factor) in SizeUnits)
            if (Array.IndexOf(suffixes, unit) >= 0) return checked(value * factor);
        throw new FormatException($"'{unit}' is not a size unit (b, KiB, MiB, GiB ...)");
    }

    private static (string Number, string Unit) Split(string text)
    {
        var trimmed = text.Trim();
        var end = trimmed.Length;
        while (end > 0 && char.IsLetter(trimmed[end - 1])) end--;
        return (trimmed[..end].TrimEnd(), trimmed[end..]);
    }

    private static double Positive(string number)
    {
        var value = double.Parse(number, NumberStyles.Float, CultureInfo.InvariantCulture);
        return value >= 0 ? value : throw new FormatException($"expected a positive value instead of {value}");
    }
}
