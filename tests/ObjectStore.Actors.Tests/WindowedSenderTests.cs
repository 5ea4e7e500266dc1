using ObjectStore.Actors.Transfer;
using ObjectStore.Core.Chunking;

namespace ObjectStore.Actors.Tests;

/// <summary>The one flow-controlled transfer: window, acknowledgements, timeout, and when the bytes' memory may be reused.</summary>
public class WindowedSenderTests
{
    private sealed class RecordingSource(int length) : IPartSource
    {
        private int _taken;
        public List<bool> Releases { get; } = [];

        public bool TryTake(int max, out ReadOnlyMemory<byte> part)
        {
            var n = Math.Min(max, length - _taken);
            part = new byte[n];
            _taken += n;
            return n > 0;
        }

        public bool Exhausted => _taken == length;
        public void Release(bool nothingInFlight) => Releases.Add(nothingInFlight);
    }

    private sealed class Clock
    {
        public DateTime Now = new(2026, 12, 1, 12, 0, 0, DateTimeKind.Utc);
    }

    private static (WindowedSender Sender, List<(long Sequence, long Offset, int Length)> Sent) Make(IPartSource source, int part = 10, int window = 3, Clock? clock = null)
    {
        var sent = new List<(long, long, int)>();
        var c = clock ?? new Clock();
        return (new WindowedSender(source, part, window, (s, o, d) => sent.Add((s, o, d.Length)), TimeSpan.FromSeconds(5), () => c.Now), sent);
    }

    [Fact]
    public void Never_more_than_the_window_is_unacknowledged_and_each_ack_makes_room()
    {
        var source = new RecordingSource(95);
        var (sender, sent) = Make(source);
        sender.Pump();
        Assert.Equal([(0, 0, 10), (1, 10, 10), (2, 20, 10)], sent);
        sender.Pump();
        Assert.Equal(3, sent.Count);

        Assert.True(sender.AcknowledgeParts(0));
        sender.Pump();
        Assert.Equal(4, sent.Count);
        Assert.Equal((3L, 30L, 10), sent[3]);
        Assert.False(sender.AcknowledgeParts(0)); // old news
        Assert.True(sender.AcknowledgeBytes(40));  // parts 1..3, by bytes
        sender.Pump();
        Assert.Equal(7, sent.Count);
        sender.AcknowledgeParts(long.MaxValue);
        sender.Pump();
        Assert.Equal(10, sent.Count);
        Assert.Equal((9L, 90L, 5), sent[^1]);
        Assert.False(sender.Complete);
        sender.AcknowledgeBytes(95);
        Assert.True(sender.Complete);
        Assert.Equal(95, sender.Acknowledged);
    }

    [Fact]
    public void A_receiver_that_stops_reading_stops_the_sender_and_the_transfer_expires()
    {
        var clock = new Clock();
        var (sender, sent) = Make(new RecordingSource(1000), clock: clock);
        sender.Pump();
        sender.AcknowledgeParts(0);
        sender.Pump();
        Assert.Equal(4, sent.Count);
        clock.Now += TimeSpan.FromSeconds(4);
        sender.Pump();
        Assert.Equal(4, sent.Count);
        Assert.False(sender.Expired);
        clock.Now += TimeSpan.FromSeconds(2);
        Assert.True(sender.Expired);
        // Progress starts the clock again.
        sender.AcknowledgeParts(1);
        Assert.False(sender.Expired);
    }

    [Fact]
    public void A_sender_waiting_for_its_source_has_nothing_out_and_does_not_expire()
    {
        var clock = new Clock();
        var source = new ArrayQueueSource();
        var (sender, sent) = Make(source, clock: clock);
        sender.Pump();
        clock.Now += TimeSpan.FromMinutes(1);
        Assert.False(sender.Expired);
        source.Add(new byte[25]);
        source.End();
        sender.Pump();
        Assert.Equal([(0, 0, 10), (1, 10, 10), (2, 20, 5)], sent);
        sender.AcknowledgeBytes(25);
        Assert.True(sender.Complete);
    }

    [Fact]
    public void The_source_is_released_once_and_reusable_only_when_every_part_was_acknowledged()
    {
        var done = new RecordingSource(20);
        var (sender, _) = Make(done);
        sender.Pump();
        sender.AcknowledgeBytes(20);
        sender.Close();
        sender.Close();
        Assert.Equal([true], done.Releases);

        var abandoned = new RecordingSource(20);
        (sender, _) = Make(abandoned);
        sender.Pump();
        sender.AcknowledgeParts(0);
        sender.Close();
        sender.Close();
        Assert.Equal([false], abandoned.Releases);
        sender.Pump(); // closed: sends nothing more
        Assert.Equal(2, sender.Parts);
    }

    [Fact]
    public void A_chunk_buffer_goes_back_to_the_pool_only_when_nothing_it_sent_is_still_out()
    {
        var released = 0;
        var buffer = ChunkBuffer.Rent(300_000);
        buffer.Append(new byte[300_000]);
        buffer.WhenReleased(() => released++);
        var (sender, sent) = Make(new ChunkBufferSource(buffer.Retain()), part: 65536, window: 2);
        sender.Pump();
        Assert.Equal(2, sent.Count);
        sender.Close();          // parts still out: this reference is abandoned
        Assert.Equal(0, released);
        buffer.Dispose();        // the last reference: the bytes are free, but the array is not reused
        Assert.Equal(1, released);
    }

    [Fact]
    public void A_stream_source_reads_parts_until_the_end_of_the_stream()
    {
        var bytes = Enumerable.Range(0, 30).Select(i => (byte)i).ToArray();
        var (sender, sent) = Make(new StreamSource(new MemoryStream(bytes)), window: 10);
        sender.Pump();
        Assert.Equal([(0, 0, 10), (1, 10, 10), (2, 20, 10)], sent);
        sender.AcknowledgeParts(2);
        Assert.True(sender.Complete);
    }
}
