using Akka.Actor;
using ObjectStore.Actors.Client;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Storage;
using ObjectStore.Core.Hashing;
using ObjectStore.Core.Storage;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Tests;

public class FailureTests : StoreTestKit
{
    /// <summary>Fails the chosen steps a set number of times, then lets them through.</summary>
    private sealed class Faults : IStorageFaults
    {
        public int RenameFailuresLeft;
        public int RenameCallsBeforeFailing;
        public int ReadFailuresLeft;
        public int CommitFailuresLeft;

        public void BeforeRename(ContentHash id)
        {
            if (Interlocked.Decrement(ref RenameCallsBeforeFailing) >= 0) return;
            if (Interlocked.Decrement(ref RenameFailuresLeft) >= 0) throw new IOException("simulated crash between temp write and rename");
        }

        public void BeforeRead(ContentHash id)
        {
            if (Interlocked.Decrement(ref ReadFailuresLeft) >= 0) throw new IOException("simulated disk read error");
        }

        public void BeforeCommit(string bucket, string key)
        {
            if (Interlocked.Decrement(ref CommitFailuresLeft) >= 0) throw new IOException("simulated index write error");
        }
    }

    [Fact]
    public async Task A_corrupt_chunk_fails_the_get_with_the_object_named_quarantines_it_and_writes_no_output()
    {
        var client = StartNode();
        await Within(client.PutFileAsync(WriteRandomFile("in", 1_000_000, 1), "photos", "cat.jpg"));
        var victim = ChunkFiles()[0];
        var bytes = File.ReadAllBytes(victim);
        bytes[bytes.Length / 2] ^= 0x01;
        File.WriteAllBytes(victim, bytes);

        var target = Path.Combine(WorkDirectory, "out.jpg");
        var error = await Assert.ThrowsAsync<StoreException>(() => Within(client.GetFileAsync("photos", "cat.jpg", target)));

        Assert.Equal(StoreErrorCode.Corrupt, error.Code);
        Assert.Contains("photos/cat.jpg", error.Message);
        Assert.Contains(Path.GetFileName(victim), error.Message);
        Assert.False(File.Exists(victim));
        Assert.Single(Directory.GetFiles(Path.Combine(DataDirectory, "quarantine")), q => Path.GetFileName(q).StartsWith(Path.GetFileName(victim)));
        await AwaitAssertAsync(() => Assert.Equal(["in"], Directory.GetFiles(WorkDirectory).Select(Path.GetFileName)), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_crash_between_temp_write_and_rename_leaves_no_chunk_and_no_object_after_restart()
    {
        var faults = new Faults { RenameCallsBeforeFailing = 3, RenameFailuresLeft = int.MaxValue };
        var client = StartNode(faults);
        var error = await Assert.ThrowsAsync<StoreException>(() => Within(client.PutFileAsync(WriteRandomFile("in", 2_000_000, 2), "photos", "big")));
        Assert.Equal(StoreErrorCode.StorageFailure, error.Code);
        Assert.Contains("photos/big", error.Message);
        Assert.Empty((await Within(client.ListAsync("photos", ""))).Objects);
        // The failed put gives back what it wrote at once (its pins end with it).
        await AwaitAssertAsync(() => Assert.Empty(ChunkFiles()), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));

        // Restart the node on the same data directory, as after a crash.
        await Sys.Terminate();
        using var restarted = ActorSystem.Create("objectstore", TestConfig);
        await Task.Delay(10); // the orphan sweep keeps chunks newer than its start; these are older
        var handles = StoreNode.Start(restarted, Settings);
        var again = new StoreClient(restarted, handles.Coordinator, Settings);

        Assert.Empty((await Within(again.ListAsync("photos", ""))).Objects);
        Assert.Empty(ChunkFiles());
        Assert.Empty(Directory.GetFiles(Path.Combine(DataDirectory, "tmp")));
        await Within(again.PutFileAsync(Path.Combine(WorkDirectory, "in"), "photos", "big"));
        await Within(again.GetFileAsync("photos", "big", Path.Combine(WorkDirectory, "out")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(WorkDirectory, "in")), File.ReadAllBytes(Path.Combine(WorkDirectory, "out")));
        await restarted.Terminate();
    }

    [Fact]
    public async Task A_disk_read_error_fails_that_get_and_the_node_keeps_serving()
    {
        var faults = new Faults();
        var client = StartNode(faults);
        await Within(client.PutFileAsync(WriteRandomFile("in", 300_000, 3), "photos", "x"));
        faults.ReadFailuresLeft = 1;

        var error = await Assert.ThrowsAsync<StoreException>(() => Within(client.GetFileAsync("photos", "x", Path.Combine(WorkDirectory, "out"))));
        Assert.Equal(StoreErrorCode.StorageFailure, error.Code);
        Assert.Contains("simulated disk read error", error.Message);

        await Within(client.GetFileAsync("photos", "x", Path.Combine(WorkDirectory, "out")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(WorkDirectory, "in")), File.ReadAllBytes(Path.Combine(WorkDirectory, "out")));
    }

    [Fact]
    public async Task An_index_failure_fails_the_put_restarts_storage_with_backoff_and_the_next_put_works()
    {
        var faults = new Faults { CommitFailuresLeft = 1 };
        Settings = Settings with { RequestTimeout = TimeSpan.FromSeconds(1) };
        var client = StartNode(faults);
        var file = WriteRandomFile("in", 100_000, 4);

        var error = await Assert.ThrowsAsync<StoreException>(() => Within(client.PutFileAsync(file, "photos", "x")));
        Assert.Equal(StoreErrorCode.StorageFailure, error.Code);
        Assert.Contains("simulated index write error", error.Message);

        // The storage actor comes back after its backoff; until then requests fail with a clear error.
        await AwaitAssertAsync(async () => await client.ListBucketsAsync(), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200));
        var put = await Within(client.PutFileAsync(file, "photos", "x"));
        Assert.Equal(100_000, put.Object.Size);
    }

    [Fact]
    public async Task While_the_index_restarts_requests_are_refused_at_once_saying_so_and_work_again_after()
    {
        var faults = new Faults();
        // A backoff far longer than the two requests below take even on a slow machine, and a request timeout far
        // longer than a refusal may take.
        Settings = Settings with
        {
            StorageRestartMinBackoff = TimeSpan.FromSeconds(8), StorageRestartMaxBackoff = TimeSpan.FromSeconds(8),
            RequestTimeout = TimeSpan.FromSeconds(20),
        };
        var client = StartNode(faults);
        var file = WriteRandomFile("in", 100_000, 4);
        await Within(client.PutFileAsync(file, "photos", "kept"));
        faults.CommitFailuresLeft = 1;
        await Assert.ThrowsAsync<StoreException>(() => Within(client.PutFileAsync(file, "photos", "x")));
        // The failed commit stopped the index; its supervisor waits out the backoff before a new one.
        await AwaitAssertAsync(async () =>
            Assert.True((await Node!.Index.Ask<Akka.Pattern.BackoffSupervisor.CurrentChild>(Akka.Pattern.BackoffSupervisor.GetCurrentChild.Instance)).Ref.IsNobody()),
            TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(20));

        var asked = System.Diagnostics.Stopwatch.StartNew();
        var refused = await Assert.ThrowsAsync<StoreException>(() => Within(client.ListBucketsAsync()));
        Assert.True(asked.Elapsed < TimeSpan.FromSeconds(5), $"refused after {asked.Elapsed}, not at once");
        Assert.Equal(StoreErrorCode.Unavailable, refused.Code);
        Assert.Contains("the object index is restarting", refused.Message);
        var target = Path.Combine(WorkDirectory, "out");
        var notNow = await Assert.ThrowsAsync<StoreException>(() => Within(client.GetFileAsync("photos", "kept", target)));
        Assert.Contains("the object index is restarting", notNow.Message); // not "no such object"
        Assert.False(File.Exists(target));
        // What the node's own actors ask for (anti-entropy, drain, cmd) fails with the same words, not a cast error.
        var holdings = await Assert.ThrowsAsync<StoreException>(() =>
            Node!.Index.AskIndex<Storage.IndexProtocol.HoldingsFound>(Storage.IndexProtocol.GetHoldings.Instance, TimeSpan.FromSeconds(20)));
        Assert.Contains("the object index is restarting", holdings.Message);

        await AwaitAssertAsync(async () => await client.ListBucketsAsync(), TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(200));
        Assert.Equal(100_000, (await Within(client.PutFileAsync(file, "photos", "x"))).Object.Size);
        await Within(client.GetFileAsync("photos", "kept", target));
        Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(target));
    }

    [Fact]
    public async Task Bad_names_and_missing_objects_are_rejected_and_change_nothing()
    {
        var client = StartNode();
        var file = WriteRandomFile("in", 1000, 5);

        var badBucket = await Assert.ThrowsAsync<StoreException>(() => Within(client.PutFileAsync(file, "Bad_Bucket", "k")));
        Assert.Equal(StoreErrorCode.InvalidRequest, badBucket.Code);
        var badKey = await Assert.ThrowsAsync<StoreException>(() => Within(client.PutFileAsync(file, "photos", "a\0b")));
        Assert.Equal(StoreErrorCode.InvalidRequest, badKey.Code);
        var missing = await Assert.ThrowsAsync<StoreException>(() => Within(client.GetFileAsync("photos", "nope", Path.Combine(WorkDirectory, "out"))));
        Assert.Equal(StoreErrorCode.NotFound, missing.Code);
        var noFile = await Assert.ThrowsAsync<StoreException>(() => Within(client.PutFileAsync(Path.Combine(WorkDirectory, "absent"), "photos", "k")));
        Assert.Equal(StoreErrorCode.InvalidRequest, noFile.Code);

        Assert.Empty((await Within(client.ListBucketsAsync())).Buckets);
        Assert.Empty(ChunkFiles());
        Assert.False(File.Exists(Path.Combine(WorkDirectory, "out")));
    }

    [Fact]
    public async Task Frames_out_of_order_or_beyond_the_announced_size_abort_the_put()
    {
        var client = StartNode();
        var probe = CreateTestProbe();

        client.Node.Tell(new PutObject("photos", "forged", 10), probe.Ref);
        var ready = probe.ExpectMsg<UploadReady>();
        ready.Session.Tell(new DataFrame(5, new byte[10]), probe.Ref);
        Assert.Equal(StoreErrorCode.InvalidRequest, probe.ExpectMsg<StoreError>().Code);

        client.Node.Tell(new PutObject("photos", "forged", 10), probe.Ref);
        ready = probe.ExpectMsg<UploadReady>();
        ready.Session.Tell(new DataFrame(0, new byte[11]), probe.Ref);
        Assert.Contains("more bytes than the announced", probe.FishForMessage<StoreError>(_ => true).Message);

        client.Node.Tell(new PutObject("photos", "forged", 10), probe.Ref);
        ready = probe.ExpectMsg<UploadReady>();
        ready.Session.Tell(new DataFrame(0, new byte[10]), probe.Ref);
        probe.ExpectMsg<FrameAck>();
        ready.Session.Tell(new UploadComplete(20, 2), probe.Ref);
        Assert.Equal(StoreErrorCode.InvalidRequest, probe.ExpectMsg<StoreError>().Code);

        client.Node.Tell(new PutObject("photos", "forged", 20), probe.Ref);
        ready = probe.ExpectMsg<UploadReady>();
        ready.Session.Tell(new DataFrame(0, new byte[10]), probe.Ref);
        probe.ExpectMsg<FrameAck>();
        ready.Session.Tell(new UploadComplete(10, 1), probe.Ref);
        ready.Session.Tell(new DataFrame(1, new byte[10]), probe.Ref);
        Assert.Contains("after the upload was completed", probe.FishForMessage<StoreError>(_ => true).Message);

        Assert.Empty((await Within(client.ListAsync("photos", ""))).Objects);
    }

    [Fact]
    public async Task An_empty_object_sent_as_frames_is_just_the_end_of_the_upload()
    {
        var client = StartNode();
        var probe = CreateTestProbe();
        client.Node.Tell(new PutObject("photos", "empty", 0), probe.Ref);
        var ready = probe.ExpectMsg<UploadReady>();
        ready.Session.Tell(new UploadComplete(0, 0), probe.Ref);
        var done = probe.ExpectMsg<PutCompleted>(TimeSpan.FromSeconds(10));
        Assert.Equal(0, done.Object.Size);
        Assert.Equal("empty", Assert.Single((await Within(client.ListAsync("photos", ""))).Objects).Key);
    }

    [Fact]
    public async Task A_client_that_dies_mid_upload_leaves_no_object()
    {
        var client = StartNode();
        var probe = CreateTestProbe();
        client.Node.Tell(new PutObject("photos", "half", 1_000_000), probe.Ref);
        var ready = probe.ExpectMsg<UploadReady>();
        ready.Session.Tell(new DataFrame(0, new byte[65536]), probe.Ref);
        probe.ExpectMsg<FrameAck>();
        Watch(ready.Session);

        Sys.Stop(probe.Ref);

        ExpectTerminated(ready.Session);
        Assert.Empty((await Within(client.ListAsync("photos", ""))).Objects);
    }
}
