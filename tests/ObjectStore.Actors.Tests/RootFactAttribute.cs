namespace ObjectStore.Actors.Tests;

/// <summary>A test that needs root (to mount a small tmpfs). CI runs as root; elsewhere it is skipped, saying why.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
            Skip = "needs root on Linux to mount a 2 MiB tmpfs as a full disk";
    }
}
