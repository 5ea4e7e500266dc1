using System.Text;

namespace ObjectStore.Core.Validation;

/// <summary>Object keys are 1 to 1024 bytes of UTF-8 without NUL. They are never used as file paths.</summary>
public static class ObjectKey
{
    public const int MaxBytes = 1024;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static void Validate(string? key)
    {
        var problem = Check(key);
        if (problem is not null) throw new InvalidNameException($"invalid object key '{key}': {problem}");
    }

    public static bool IsValid(string? key) => Check(key) is null;

    /// <summary>What is wrong with the key, or null.</summary>
    public static string? Check(string? key)
    {
        if (string.IsNullOrEmpty(key)) return "a key is required";
        if (key.Contains('\0')) return "must not contain NUL";
        int bytes;
        try { bytes = StrictUtf8.GetByteCount(key); }
        catch (EncoderFallbackException) { return "must be valid UTF-8 (it contains a lone surrogate)"; }
        if (bytes > MaxBytes) return $"must be at most {MaxBytes} bytes of UTF-8, got {bytes}";
        return null;
    }
}
