using Akka.Actor;
using ObjectStore.Actors.Client;
using ObjectStore.Actors.Protocol;
using ObjectStore.Actors.Transfer;
using ObjectStore.Core.Hashing;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Tests;

/// <summary>
/// What the client accepts from a node that wrote the object into its handed-over temp file: a node that
/// checked every chunk against its id (today's), or one whose hash of what it wrote is the object's (an
/// earlier version). Anything else leaves no file. A stand-in node with a real data plane receives the file.
/// </summary>
public class HandedOverGetCompletionTests : StoreTestKit
{
    private readonly byte[] _data = RandomBytes(300_000);
    /// <summary>The stand-in node's data plane (a TCP port and a Unix socket), closed however the test ends.</summary>
    private readonly DataPlane _plane;

    public HandedOverGetCompletionTests() => _plane = new DataPlane("127.0.0.1", 0, Sys.Log, localHandOver: true);

    protected override void AfterAll()
    {
        _plane.Dispose();
        base.AfterAll();
    }

    private static byte[] RandomBytes(int size)
    {
        var data = new byte[size];
        new Random(11).NextBytes(data);
        return data;
    }

    [LinuxFact]
    public async Task A_file_the_node_wrote_with_every_chunk_checked_becomes_the_target()
    {
        var (get, target) = GetWrittenByStandIn(_data, new DownloadComplete(_data.Length, ChunksChecked: true));
        await get.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(_data, File.ReadAllBytes(target));
        Assert.Equal(["out"], Directory.GetFiles(Path.GetDirectoryName(target)!).Select(Path.GetFileName));
    }

    [LinuxFact]
    public Task A_completion_that_checked_neither_chunks_nor_hash_is_refused_and_leaves_no_file() =>
        AssertRefusedLeavingNoFile(_data, new DownloadComplete(_data.Length), "checked neither");

    [LinuxFact]
    public Task An_earlier_node_s_hash_that_is_not_the_object_s_is_refused_and_leaves_no_file()
    {
        var wrong = (byte[])_data.Clone();
        wrong[123_456] ^= 1;
        return AssertRefusedLeavingNoFile(wrong, new DownloadComplete(_data.Length, ContentHash.Compute(wrong)), "content hashes to");
    }

    [LinuxFact]
    public Task A_file_shorter_than_the_object_is_refused_even_with_every_chunk_checked() =>
        AssertRefusedLeavingNoFile(_data.AsSpan(0, 200_000).ToArray(), new DownloadComplete(_data.Length, ChunksChecked: true),
            $"received 200000 bytes, the object has {_data.Length}");

    private async Task AssertRefusedLeavingNoFile(byte[] written, DownloadComplete completion, string because)
    {
        var (get, target) = GetWrittenByStandIn(written, completion);
        var error = await Assert.ThrowsAsync<StoreException>(() => get.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(StoreErrorCode.Corrupt, error.Code);
        Assert.Contains(because, error.Message);
        await AwaitAssertAsync(() => Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(target)!)), TimeSpan.FromSeconds(5));
    }

    /// <summary>
    /// A client gets photos/k from a stand-in node that offers a hand-over on a real data plane, writes
    /// <paramref name="written"/> into the file it is handed and answers <paramref name="completion"/>.
    /// </summary>
    private (Task<ObjectInfo> Get, string Target) GetWrittenByStandIn(byte[] written, DownloadComplete completion)
    {
        var node = CreateTestProbe();
        var target = Path.Combine(WorkDirectory, "got", "out");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var result = new TaskCompletionSource<ObjectInfo>(TaskCreationOptions.RunContinuationsAsynchronously);
        var info = new ObjectInfo("photos", "k", "v1", _data.Length, ContentHash.Compute(_data), 1, 1);

        Sys.ActorOf(FileDownloaderActor.Props(node.Ref, "photos", "k", target, 4, 64 * 1024, TimeSpan.FromSeconds(10), result));
        node.ExpectMsg<GetObject>();
        var client = node.LastSender;
        var token = _plane.Expect(node.Ref);
        client.Tell(new DownloadReady(info, node.Ref, _plane.Host, _plane.Port, token, _plane.HandOverName), node.Ref);
        using (var file = node.ExpectMsg<LocalFileOpened>(TimeSpan.FromSeconds(10)).File)
            RandomAccess.Write(file, written, 0);
        client.Tell(completion, node.Ref);
        return (result.Task, target);
    }
}
