using System.Buffers.Binary;
using System.Runtime.Serialization;
using System.Text;
using ObjectStore.Core.Hashing;

namespace ObjectStore.Actors.Serialization;

/// <summary>
/// Reads the fields of one message from bytes that came off the network. Every length is checked
/// against what is left, so a truncated or forged message fails with a SerializationException
/// (which Akka.Remote drops) instead of allocating wildly or tearing the connection down.
/// </summary>
internal ref struct WireReader(ReadOnlySpan<byte> data)
{
    private ReadOnlySpan<byte> _rest = data;
    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    public int Remaining => _rest.Length;

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > _rest.Length)
            throw new SerializationException($"truncated message: needed {count} bytes, {_rest.Length} left");
        var taken = _rest[..count];
        _rest = _rest[count..];
        return taken;
    }

    public byte Byte() => Take(1)[0];
    public bool Bool() => Byte() switch
    {
        0 => false,
        1 => true,
        var b => throw new SerializationException($"bad boolean byte {b}"),
    };
    public int Int32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));
    public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    public int Count(int minBytesPerItem)
    {
        var count = Int32();
        if (count < 0 || (long)count * minBytesPerItem > _rest.Length)
            throw new SerializationException($"bad item count {count} for {_rest.Length} remaining bytes");
        return count;
    }

    public string String()
    {
        var length = Int32();
        try { return StrictUtf8.GetString(Take(length)); }
        catch (DecoderFallbackException e) { throw new SerializationException("string is not valid UTF-8", e); }
    }

    public byte[] Bytes() => Take(Int32()).ToArray();

    public string? NullableString() => Bool() ? String() : null;

    public ContentHash Hash() => ContentHash.FromBytes(Take(ContentHash.Size));

    public void End()
    {
        if (_rest.Length != 0) throw new SerializationException($"{_rest.Length} unexpected trailing bytes");
    }
}

/// <summary>What both serializers do with bytes from the network.</summary>
internal static class SafeDecode
{
    /// <summary>
    /// Runs a decoder, turning every way malformed bytes can fail into a SerializationException: Akka.Remote
    /// drops such a message and keeps the association, where any other exception would tear it down.
    /// </summary>
    public static object Run(Func<byte[], string, object> decode, byte[] bytes, string manifest)
    {
        try
        {
            return decode(bytes, manifest);
        }
        catch (SerializationException)
        {
            throw;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException or InvalidOperationException)
        {
            throw new SerializationException($"malformed '{manifest}' message: {e.Message}", e);
        }
    }
}
