using ObjectStore.Core.Storage;

namespace ObjectStore.Core.Tests;

public class DataDirectoryLockTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_second_lock_on_the_directory_is_refused_naming_it_and_the_holder_and_is_granted_once_the_first_lets_go()
    {
        var first = DataDirectoryLock.Acquire(_dir.Path);

        var refused = Assert.Throws<DataDirectoryInUseException>(() => DataDirectoryLock.Acquire(_dir.Path));
        Assert.Contains(Path.GetFullPath(_dir.Path), refused.Message);
        Assert.Contains($"pid {Environment.ProcessId}", refused.Message);

        first.Dispose();
        using var second = DataDirectoryLock.Acquire(_dir.Path);
    }
}
