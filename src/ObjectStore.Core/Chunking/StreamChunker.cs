namespace ObjectStore.Core.Chunking;

/// <summary>Reads a stream and yields its chunks; holds one chunk plus one read buffer.</summary>
public static class StreamChunker
{
    public const int ReadBufferSize = 256 * 1024;

    public static IEnumerable<ChunkBuffer> Split(Stream source, IChunker chunker)
    {
        using var splitter = new ChunkSplitter(chunker);
        var readBuffer = new byte[ReadBufferSize];
        var ready = new Queue<ChunkBuffer>();
        try
        {
            int read;
            while ((read = source.Read(readBuffer, 0, readBuffer.Length)) > 0)
            {
                splitter.Write(readBuffer.AsSpan(0, read), ready.Enqueue);
                while (ready.Count > 0) yield return ready.Dequeue();
            }
            var last = splitter.Complete();
            if (last is not null) yield return last;
        }
        finally
        {
            while (ready.Count > 0) ready.Dequeue().Dispose();
        }
    }
}
