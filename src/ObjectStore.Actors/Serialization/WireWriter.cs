using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using ObjectStore.Core.Hashing;

namespace ObjectStore.Actors.Serialization;

/// <summary>Writes message fields little-endian with length-prefixed strings; the mirror of <see cref="WireReader"/>.</summary>
internal sealed class WireWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(256);

    public void Byte(byte value) => _buffer.Write([value]);
    public void Bool(bool value) => Byte(value ? (byte)1 : (byte)0);

    public void Int32(int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
    }

    public void Int64(long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(_buffer.GetSpan(8), value);
        _buffer.Advance(8);
    }

    public void String(string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        Int32(length);
        Encoding.UTF8.GetBytes(value, _buffer.GetSpan(length));
        _buffer.Advance(length);
    }

    public void NullableString(string? value)
    {
        Bool(value is not null);
        if (value is not null) String(value);
    }

    public void Bytes(byte[] value)
    {
        Int32(value.Length);
        _buffer.Write(value);
    }

    public void Hash(ContentHash value)
    {
        value.WriteTo(_buffer.GetSpan(ContentHash.Size));
        _buffer.Advance(ContentHash.Size);
    }

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();
}
