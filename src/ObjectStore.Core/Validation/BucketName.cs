using System.Net;

namespace ObjectStore.Core.Validation;

/// <summary>Bucket names follow Amazon S3's rules for general purpose buckets.</summary>
public static class BucketName
{
    public static void Validate(string? name)
    {
        var problem = Check(name);
        if (problem is not null) throw new InvalidNameException($"invalid bucket name '{name}': {problem}");
    }

    public static bool IsValid(string? name) => Check(name) is null;

    /// <summary>What is wrong with the name, or null.</summary>
    public static string? Check(string? name)
    {
        if (string.IsNullOrEmpty(name)) return "a bucket name is required";
        if (name.Length is < 3 or > 63) return "must be 3 to 63 characters long";
        foreach (var c in name)
            if (!(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '.' or '-'))
                return "only lowercase letters, digits, '.' and '-' are allowed";
        if (!char.IsAsciiLetterOrDigit(name[0]) || !char.IsAsciiLetterOrDigit(name[^1]))
            return "must begin and end with a letter or digit";
        if (name.Contains("..")) return "must not contain two adjacent periods";
        if (IPAddress.TryParse(name, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && name.Count(c => c == '.') == 3)
            return "must not be formatted as an IP address";
        if (name.StartsWith("xn--") || name.StartsWith("sthree-") || name.StartsWith("amzn-s3-demo-"))
            return "must not start with a reserved prefix (xn--, sthree-, amzn-s3-demo-)";
        if (name.EndsWith("-s3alias") || name.EndsWith("--ol-s3") || name.EndsWith(".mrap") || name.EndsWith("--x-s3"))
            return "must not end with a reserved suffix (-s3alias, --ol-s3, .mrap, --x-s3)";
        return null;
    }
}
