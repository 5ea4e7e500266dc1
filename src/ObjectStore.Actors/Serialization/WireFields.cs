using System.Text;
using Google.Protobuf;

namespace ObjectStore.Actors.Serialization;

/// <summary>
/// Walks the fields of one protobuf message in a received array, so that a bytes field can be taken as a
/// slice of that array. Written by hand because Google.Protobuf's parser copies every bytes field into a
/// new ByteString, and the messages read with this carry up to a frame of file data each (chunk parts,
/// data frames): that copy would be the only one between the socket and the chunk being built. Unknown
/// fields are skipped, as the generated parser does.
/// </summary>
internal ref struct WireFields(byte[] buffer)
{
    private static readonly UTF8Encoding StrictUtf8 = new(false, true);
    private int _at;

    public bool Next(out int field, out WireFormat.WireType type)
    {
        field = 0;
        type = default;
        if (_at >= buffer.Length) return false;
        var tag = Varint();
        if (tag > uint.MaxValue || tag >> 3 == 0) throw new System.Runtime.Serialization.SerializationException($"bad field tag {tag}");
        field = (int)(tag >> 3);
        type = (WireFormat.WireType)(tag & 7);
        return true;
    }

    public ulong Varint()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (_at >= buffer.Length) throw new System.Runtime.Serialization.SerializationException("message ends inside a number");
            var b = buffer[_at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }
        throw new System.Runtime.Serialization.SerializationException("a number longer than 10 bytes");
    }

    public long Int64() => (long)Varint();

    /// <summary>An int32 field; negative values are sign-extended to ten bytes on the wire.</summary>
    public int Int32() => unchecked((int)(long)Varint());

    public ReadOnlyMemory<byte> Bytes()
    {
        var length = Varint();
        if (length > (ulong)(buffer.Length - _at)) throw new System.Runtime.Serialization.SerializationException($"a field of {length} bytes where {buffer.Length - _at} are left");
        var slice = buffer.AsMemory(_at, (int)length);
        _at += (int)length;
        return slice;
    }

    public string String()
    {
        try { return StrictUtf8.GetString(Bytes().Span); }
        catch (DecoderFallbackException e) { throw new System.Runtime.Serialization.SerializationException($"a string that is not UTF-8: {e.Message}"); }
    }

    public void Skip(WireFormat.WireType type)
    {
        switch (type)
        {
            case WireFormat.WireType.Varint: Varint(); break;
            case WireFormat.WireType.LengthDelimited: Bytes(); break;
            case WireFormat.WireType.Fixed64: Advance(8); break;
            case WireFormat.WireType.Fixed32: Advance(4); break;
            default: throw new System.Runtime.Serialization.SerializationException($"unsupported wire type {type}");
        }
    }

    /// <summary>Checks that a known field came with the wire type its declaration gives.</summary>
    public static void Expect(WireFormat.WireType actual, WireFormat.WireType expected, int field)
    {
        if (actual != expected) throw new System.Runtime.Serialization.SerializationException($"field {field} has wire type {actual}, expected {expected}");
    }

    private void Advance(int count)
    {
        if (count > buffer.Length - _at) throw new System.Runtime.Serialization.SerializationException("message ends inside a field");
        _at += count;
    }
}
