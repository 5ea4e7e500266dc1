using ObjectStore.Core.Storage;

namespace ObjectStore.Core.Tests;

/// <summary>
/// Whether the temp directory's file system takes O_DIRECT writes (CI's ext4 does; tmpfs before Linux
/// 6.6 and some FUSE file systems do not). Tests of the direct path are skipped elsewhere, saying why.
/// </summary>
internal static class DirectIoProbe
{
    public static readonly string? Unsupported = Probe();

    private static string? Probe()
    {
        if (!DirectFileWriter.Available) return "O_DIRECT is tried only on Linux (x64, arm64)";
        using var dir = new TempDirectory();
        return DirectFileWriter.TryWriteNew(Path.Combine(dir.Path, "probe"), [1, 2, 3])
            ? null
            : $"the file system under {Path.GetTempPath()} refuses O_DIRECT";
    }
}

public sealed class DirectIoFactAttribute : FactAttribute
{
    public DirectIoFactAttribute() => Skip = DirectIoProbe.Unsupported;
}

public sealed class DirectIoTheoryAttribute : TheoryAttribute
{
    public DirectIoTheoryAttribute() => Skip = DirectIoProbe.Unsupported;
}

/// <summary>A test that mounts a file system (root on Linux; CI runs as root); skipped elsewhere, saying why.</summary>
public sealed class MountFactAttribute : FactAttribute
{
    public MountFactAttribute()
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root") Skip = "needs root on Linux to mount a ramfs";
    }
}
