using System.Diagnostics;
using ObjectStore.Actors.Client;
using ObjectStore.Actors.Protocol;

namespace ObjectStore.Actors.Tests;

/// <summary>A real full disk: the data directory on a 2 MiB tmpfs.</summary>
public class FullDiskTests : StoreTestKit
{
    private static void Run(string command, string args)
    {
        using var process = Process.Start(new ProcessStartInfo(command, args) { RedirectStandardError = true })!;
        process.WaitForExit(10_000);
        if (process.ExitCode != 0) throw new InvalidOperationException($"{command} {args}: {process.StandardError.ReadToEnd()}");
    }

    /// <summary>Runs <paramref name="test"/> with a 2 MiB tmpfs mounted at WORK/<paramref name="name"/>; the node stops before it is unmounted.</summary>
    private async Task OnSmallDisk(string name, Func<string, Task> test)
    {
        var mount = Path.Combine(WorkDirectory, name);
        Directory.CreateDirectory(mount);
        Run("mount", $"-t tmpfs -o size=2m tmpfs {mount}");
        try
        {
            await test(mount);
        }
        finally
        {
            await Sys.Terminate();
            Run("umount", $"-l {mount}");
        }
    }

    [RootFact]
    public async Task A_put_that_fills_the_disk_fails_clearly_gives_its_space_back_and_the_store_keeps_working()
    {
        await OnSmallDisk("small-disk", async mount =>
        {
            Settings = Settings with { DataDirectory = mount };
            var client = StartNode();
            var big = WriteRandomFile("big", 4 * 1024 * 1024, 1);

            var error = await Assert.ThrowsAsync<StoreException>(() => Within(client.PutFileAsync(big, "photos", "big")));

            Assert.Equal(StoreErrorCode.StorageFailure, error.Code);
            Assert.Contains("photos/big", error.Message);
            Assert.Contains("No space left on device", error.Message);
            Assert.Empty((await Within(client.ListBucketsAsync())).Buckets);
            await AwaitAssertAsync(() =>
            {
                Assert.Empty(Directory.GetFiles(Path.Combine(mount, "chunks"), "*", SearchOption.AllDirectories));
                Assert.Empty(Directory.GetFiles(Path.Combine(mount, "tmp")));
            }, TimeSpan.FromSeconds(10));

            var small = WriteRandomFile("small", 100_000, 2);
            await Within(client.PutFileAsync(small, "photos", "small"));
            await Within(client.GetFileAsync("photos", "small", Path.Combine(WorkDirectory, "small.out")));
            Assert.Equal(File.ReadAllBytes(small), File.ReadAllBytes(Path.Combine(WorkDirectory, "small.out")));
        });
    }

    [RootFact]
    public async Task A_get_into_a_full_disk_fails_clearly_and_leaves_no_part_file()
    {
        await OnSmallDisk("small-target", async mount =>
        {
            var client = StartNode();
            var big = WriteRandomFile("big", 4 * 1024 * 1024, 3); // larger than a window of frames: the data port
            await Within(client.PutFileAsync(big, "photos", "big"));

            var error = await Assert.ThrowsAsync<StoreException>(() => Within(client.GetFileAsync("photos", "big", Path.Combine(mount, "big.out"))));

            Assert.Contains($"cannot write {Path.Combine(mount, "big.out")}", error.Message);
            Assert.Contains("No space left on device", error.Message);
            Assert.Empty(Directory.EnumerateFileSystemEntries(mount));
            // The node is fine: the same object reads back elsewhere.
            await Within(client.GetFileAsync("photos", "big", Path.Combine(WorkDirectory, "big.out")));
            Assert.Equal(File.ReadAllBytes(big), File.ReadAllBytes(Path.Combine(WorkDirectory, "big.out")));
        });
    }
}
