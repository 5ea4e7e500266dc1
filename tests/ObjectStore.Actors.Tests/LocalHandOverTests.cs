using System.IO.Pipes;
using System.Net.Sockets;
using Akka.Actor;
using Microsoft.Win32.SafeHandles;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Transfer;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Tests;

/// <summary>A client on the node's machine hands over the open file (SCM_RIGHTS) instead of sending its bytes.</summary>
public class LocalHandOverTests : StoreTestKit
{
    private const int LargeFile = 5 * 1024 * 1024 + 123; // more than a window of frames (32 × 64 KiB)

    [LinuxFact]
    public async Task A_handed_over_get_that_meets_a_corrupt_chunk_fails_as_corrupt_quarantines_it_and_leaves_no_file()
    {
        var client = StartNode();
        await Within(client.PutFileAsync(WriteRandomFile("in", LargeFile, 7), "photos", "big"));
        // The object's last chunk: the session reads at most read-parallelism chunks before the client's file arrives, so a
        // corrupt chunk among the first ones could fail the get before it goes the handed-over way.
        var chunks = (await Within(client.StatAsync("photos", "big"))).Chunks;
        Assert.True(chunks.Count > Settings.ReadParallelism, $"the object should have more than {Settings.ReadParallelism} chunks, has {chunks.Count}");
        var victim = Node!.Chunks.PathOf(chunks[^1].Id);
        var bytes = File.ReadAllBytes(victim);
        bytes[bytes.Length / 3] ^= 0x10;
        File.WriteAllBytes(victim, bytes);
        var target = Path.Combine(WorkDirectory, "out");

        var error = await Assert.ThrowsAsync<Client.StoreException>(() => Within(client.GetFileAsync("photos", "big", target)));

        Assert.Equal(StoreErrorCode.Corrupt, error.Code);
        Assert.Contains("photos/big", error.Message);
        Assert.Equal(2, Node!.DataPlane!.HandOvers); // the get went the handed-over way
        Assert.False(File.Exists(victim));
        Assert.Single(Directory.GetFiles(Path.Combine(DataDirectory, "quarantine")));
        await AwaitAssertAsync(() => Assert.Equal(["in"], Directory.GetFiles(WorkDirectory).Select(Path.GetFileName)), TimeSpan.FromSeconds(5));
    }

    [LinuxFact]
    public async Task A_large_put_and_get_from_this_machine_hand_over_their_files_and_the_object_comes_back_identical()
    {
        var client = StartNode();
        var source = WriteRandomFile("in", LargeFile, 1);
        var progress = new List<long>();

        var put = await Within(client.PutFileAsync(source, "photos", "big", progress: new SynchronousProgress(progress)));
        await Within(client.GetFileAsync("photos", "big", Path.Combine(WorkDirectory, "out")));

        Assert.Equal(2, Node!.DataPlane!.HandOvers); // the put's file, and the get's temp file the node wrote into
        Assert.Equal(LargeFile, put.Object.Size);
        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(Path.Combine(WorkDirectory, "out")));
        Assert.Equal(LargeFile, progress.Last());
    }

    [LinuxFact]
    public Task A_handed_over_get_with_three_reads_in_flight_reads_every_chunk() => HandedOverGetWithReadsInFlight(3);

    [LinuxFact]
    public Task A_handed_over_get_with_one_read_in_flight_reads_every_chunk() => HandedOverGetWithReadsInFlight(1);

    /// <summary>
    /// Reads into a handed-over file are asked for two at a time (so the reader checks them as a pair); a single free
    /// slot (common with three in flight, the only case with one) must not be left waiting for a second for ever.
    /// </summary>
    private async Task HandedOverGetWithReadsInFlight(int reads)
    {
        Settings = Settings with { ReadParallelism = reads };
        var client = StartNode();
        var source = WriteRandomFile("in", LargeFile, 3);
        await Within(client.PutFileAsync(source, "photos", "odd"));
        Assert.True((await Within(client.StatAsync("photos", "odd"))).Chunks.Count > 10 * reads);

        await Within(client.GetFileAsync("photos", "odd", Path.Combine(WorkDirectory, "out")));

        Assert.Equal(2, Node!.DataPlane!.HandOvers);
        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(Path.Combine(WorkDirectory, "out")));
    }

    [LinuxFact]
    public async Task A_put_and_get_of_a_few_frames_from_this_machine_hand_over_their_files_too()
    {
        var client = StartNode();
        var size = 3 * Settings.FrameSize + 17; // more than the one frame of a small put, less than a window
        var source = WriteRandomFile("in", size, 2);

        var put = await Within(client.PutFileAsync(source, "photos", "medium"));
        await Within(client.GetFileAsync("photos", "medium", Path.Combine(WorkDirectory, "out")));

        Assert.Equal(2, Node!.DataPlane!.HandOvers);
        Assert.Equal(size, put.Object.Size);
        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(Path.Combine(WorkDirectory, "out")));
    }

    [LinuxFact]
    public async Task With_hand_over_off_a_large_put_sends_its_bytes_on_the_data_port()
    {
        Settings = Settings with { LocalHandOver = false };
        var client = StartNode();
        var probe = CreateTestProbe();
        client.Node.Tell(new PutObject("photos", "x", LargeFile), probe.Ref);
        Assert.Equal("", probe.ExpectMsg<UploadReady>().HandOver);

        var source = WriteRandomFile("in", LargeFile, 2);
        await Within(client.PutFileAsync(source, "photos", "tcp"));
        await Within(client.GetFileAsync("photos", "tcp", Path.Combine(WorkDirectory, "out")));

        Assert.Equal(0, Node!.DataPlane!.HandOvers);
        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(Path.Combine(WorkDirectory, "out")));
    }

    [LinuxFact]
    public async Task A_hand_over_with_an_unknown_token_is_refused_and_changes_nothing()
    {
        var client = StartNode();
        var ready = Ready(client, "x", 10);
        var file = WriteRandomFile("in", 1000, 3);
        using var handle = File.OpenHandle(file);

        Assert.Equal(0, HandOver(ready.HandOver, new byte[DataPlane.TokenSize], handle));

        Assert.Equal(0, Node!.DataPlane!.HandOvers);
        Assert.Empty((await Within(client.ListAsync("photos", ""))).Objects);
    }

    [LinuxFact]
    public void A_hand_over_without_a_file_is_refused()
    {
        var client = StartNode();
        var ready = Ready(client, "x", 10);

        using var socket = HandOverClient.Connect(ready.HandOver);
        socket.Send(ready.DataToken);
        var answer = new byte[1];
        socket.ReceiveTimeout = 10_000;
        var read = socket.Receive(answer);

        Assert.True(read == 0 || answer[0] == 0, "the node must not accept a token without a file");
        Assert.Equal(0, Node!.DataPlane!.HandOvers);
    }

    [LinuxFact]
    public void A_pipe_handed_over_instead_of_a_file_is_refused_and_the_token_stays_usable()
    {
        var client = StartNode();
        var ready = Ready(client, "x", 10);
        using var pipe = new AnonymousPipeServerStream(PipeDirection.Out);
        using var pipeEnd = new SafeFileHandle(pipe.ClientSafePipeHandle.DangerousGetHandle(), ownsHandle: false);

        Assert.Equal(0, HandOver(ready.HandOver, ready.DataToken, pipeEnd));

        // Refused before the session saw it: the same token still hands over a real file.
        var file = WriteRandomFile("in", 10, 4);
        using var handle = File.OpenHandle(file);
        Assert.Equal(1, HandOver(ready.HandOver, ready.DataToken, handle));
    }

    [LinuxFact]
    public async Task A_handed_over_file_shorter_than_announced_fails_the_put_and_stores_nothing()
    {
        var client = StartNode();
        var probe = CreateTestProbe();
        client.Node.Tell(new PutObject("photos", "short", 3_000_000), probe.Ref);
        var ready = probe.ExpectMsg<UploadReady>();
        var file = WriteRandomFile("in", 1_000_000, 5);
        using var handle = File.OpenHandle(file);

        Assert.Equal(1, HandOver(ready.HandOver, ready.DataToken, handle));
        ready.Session.Tell(new UploadComplete(3_000_000, UploadComplete.ViaDataPort), probe.Ref);

        var error = probe.FishForMessage<StoreError>(_ => true, TimeSpan.FromSeconds(10));
        Assert.Equal(StoreErrorCode.InvalidRequest, error.Code);
        Assert.Contains("ended after 1000000 of the announced 3000000 bytes", error.Message);
        Assert.Empty((await Within(client.ListAsync("photos", ""))).Objects);
    }

    [LinuxFact]
    public async Task Bytes_appended_during_the_put_are_not_part_of_it()
    {
        var client = StartNode();
        var probe = CreateTestProbe();
        client.Node.Tell(new PutObject("photos", "grows", 300_000), probe.Ref);
        var ready = probe.ExpectMsg<UploadReady>();
        var file = WriteRandomFile("in", 300_000, 6);
        var original = File.ReadAllBytes(file);
        using (var appender = new FileStream(file, FileMode.Append)) appender.Write(new byte[50_000]);
        using var handle = File.OpenHandle(file);

        Assert.Equal(1, HandOver(ready.HandOver, ready.DataToken, handle));
        ready.Session.Tell(new UploadComplete(300_000, UploadComplete.ViaDataPort), probe.Ref);
        var done = probe.FishForMessage<PutCompleted>(_ => true, TimeSpan.FromSeconds(10));

        Assert.Equal(300_000, done.Object.Size);
        await Within(client.GetFileAsync("photos", "grows", Path.Combine(WorkDirectory, "out")));
        Assert.Equal(original, File.ReadAllBytes(Path.Combine(WorkDirectory, "out")));
    }

    private UploadReady Ready(Client.StoreClient client, string key, long size)
    {
        var probe = CreateTestProbe();
        client.Node.Tell(new PutObject("photos", key, size), probe.Ref);
        var ready = probe.ExpectMsg<UploadReady>();
        Assert.NotEqual("", ready.HandOver);
        return ready;
    }

    private static int HandOver(string name, byte[] token, SafeFileHandle file) => HandOverClient.HandOver(name, token, [file]);

    private sealed class SynchronousProgress(List<long> reports) : IProgress<long>
    {
        public void Report(long value)
        {
            lock (reports) reports.Add(value);
        }
    }
}

/// <summary>Runs only on Linux, where the hand-over exists.</summary>
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux()) Skip = "the local file hand-over is Linux only";
    }
}
