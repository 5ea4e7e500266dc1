using System.Buffers.Binary;
using System.Security.Cryptography;

namespace ObjectStore.Core.Hashing;

/// <summary>
/// A SHA-256 digest. Chunk ids and object hashes are both content hashes; the value type keeps
/// them cheap to put in dictionaries and sets without allocating.
/// </summary>
public readonly struct ContentHash : IEquatable<ContentHash>, IComparable<ContentHash>
{
    public const int Size = 32;

    private readonly ulong _a, _b, _c, _d;

    private ContentHash(ulong a, ulong b, ulong c, ulong d) => (_a, _b, _c, _d) = (a, b, c, d);

    public static ContentHash FromBytes(ReadOnlySpan<byte> digest)
    {
        if (digest.Length != Size)
            throw new ArgumentException($"a SHA-256 digest is {Size} bytes, got {digest.Length}", nameof(digest));
        return new ContentHash(
            BinaryPrimitives.ReadUInt64BigEndian(digest),
            BinaryPrimitives.ReadUInt64BigEndian(digest[8..]),
            BinaryPrimitives.ReadUInt64BigEndian(digest[16..]),
            BinaryPrimitives.ReadUInt64BigEndian(digest[24..]));
    }

    public static ContentHash Compute(ReadOnlySpan<byte> data)
    {
        Span<byte> digest = stackalloc byte[Size];
        SHA256.HashData(data, digest);
        return FromBytes(digest);
    }

    public static ContentHash Parse(string hex)
    {
        if (!TryParse(hex, out var hash))
            throw new FormatException($"'{hex}' is not a 64-character hexadecimal SHA-256 digest");
        return hash;
    }

    public static bool TryParse(string? hex, out ContentHash hash)
    {
        hash = default;
        if (hex is null || hex.Length != Size * 2) return false;
        Span<byte> digest = stackalloc byte[Size];
        if (Convert.FromHexString(hex, digest, out _, out var written) != System.Buffers.OperationStatus.Done || written != Size)
            return false;
        hash = FromBytes(digest);
        return true;
    }

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], _c);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], _d);
    }

    public byte[] ToArray()
    {
        var bytes = new byte[Size];
        WriteTo(bytes);
        return bytes;
    }

    public override string ToString()
    {
        Span<byte> digest = stackalloc byte[Size];
        WriteTo(digest);
        return Convert.ToHexStringLower(digest);
    }

    /// <summary>The first 12 hex digits: enough to tell chunks apart in messages meant for people.</summary>
    public string ToShortString() => ToString()[..12];

    public bool Equals(ContentHash other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d;
    public override bool Equals(object? obj) => obj is ContentHash other && Equals(other);
    public override int GetHashCode() => (int)_a ^ (int)(_a >> 32);
    public int CompareTo(ContentHash other)
    {
        var c = _a.CompareTo(other._a);
        if (c != 0) return c;
        c = _b.CompareTo(other._b);
        if (c != 0) return c;
        c = _c.CompareTo(other._c);
        return c != 0 ? c : _d.CompareTo(other._d);
    }
    public static bool operator ==(ContentHash left, ContentHash right) => left.Equals(right);
    public static bool operator !=(ContentHash left, ContentHash right) => !left.Equals(right);
}
