using ObjectStore.Actors.Client;
using ObjectStore.Actors.Protocol;
using ObjectStore.Core.Hashing;

namespace ObjectStore.Actors.Tests;

public class DownloadTargetTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "objectstore-download-target-tests", Guid.NewGuid().ToString("N"));

    public DownloadTargetTests() => Directory.CreateDirectory(_directory);

    public void Dispose()
    {
        try { Directory.Delete(_directory, recursive: true); }
        catch (IOException) { }
    }

    [Fact]
    public void A_finished_get_can_be_read_at_once_while_the_node_still_holds_its_copy_of_the_handed_over_file()
    {
        var data = new byte[10_000];
        new Random(8).NextBytes(data);
        var target = Path.Combine(_directory, "got.bin");
        using var download = new DownloadTarget(target);
        // The hand-over still holds the temp file's handle (sending it to the node) when the get completes: the
        // handle is released, and any lock .NET took with it dropped, only once that reference goes.
        var handle = download.HandleForNode;
        var held = false;
        handle.DangerousAddRef(ref held);
        try
        {
            download.Write(data);
            download.Complete(new ObjectInfo("b", "k", "v", data.Length, ContentHash.Compute(data), 0, 1), "b/k");

            // The file must be readable the usual .NET way at once.
            Assert.Equal(data, File.ReadAllBytes(target));
        }
        finally
        {
            if (held) handle.DangerousRelease();
        }
    }
}
