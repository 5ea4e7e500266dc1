using System.Buffers.Binary;
using Google.Protobuf;

namespace ObjectStore.Actors.Commands;

/// <summary>
/// The command protocol's frames: a 4-byte big-endian length, then that many bytes of one protobuf
/// message (Protocol/cmd.proto). Written by hand because it is eight lines; a length beyond the reader's
/// limit is refused before a byte of it is read.
/// </summary>
public static class CommandFraming
{
    /// <summary>The most a request may be: a command line, never data.</summary>
    public const int MaxRequestBytes = 64 * 1024;

    /// <summary>The most a reply may be (a large table).</summary>
    public const int MaxReplyBytes = 16 * 1024 * 1024;

    internal static async Task WriteAsync(Stream stream, IMessage message, CancellationToken cancel)
    {
        var body = message.ToByteArray();
        var frame = new byte[4 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, body.Length);
        body.CopyTo(frame, 4);
        await stream.WriteAsync(frame, cancel);
        await stream.FlushAsync(cancel);
    }

    /// <summary>The next frame's bytes; null at a clean end of stream (between frames).</summary>
    /// <exception cref="InvalidDataException">A length beyond <paramref name="limit"/>, or the stream ends inside a frame.</exception>
    internal static async Task<byte[]?> ReadAsync(Stream stream, int limit, CancellationToken cancel)
    {
        var header = new byte[4];
        var got = await ReadFullyAsync(stream, header, cancel);
        if (got == 0) return null;
        if (got < 4) throw new InvalidDataException("the connection ended inside a frame's length");
        var length = BinaryPrimitives.ReadInt32BigEndian(header);
        if (length < 0 || length > limit) throw new InvalidDataException($"a frame of {length} bytes; at most {limit} are accepted");
        var body = new byte[length];
        if (await ReadFullyAsync(stream, body, cancel) < length) throw new InvalidDataException("the connection ended inside a frame");
        return body;
    }

    private static async Task<int> ReadFullyAsync(Stream stream, byte[] buffer, CancellationToken cancel)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(total), cancel);
            if (read == 0) break;
            total += read;
        }
        return total;
    }
}
