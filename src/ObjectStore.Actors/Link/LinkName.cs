namespace ObjectStore.Actors.Link;

/// <summary>
/// Where a node's local link listens: a Unix socket in the abstract namespace named after the node's
/// address, so a shell that knows only HOST:PORT finds it without being told a name (the hand-over's socket
/// has a random one, sent with each token). Nothing on disk: nothing to clean up after a crash.
/// </summary>
public static class LinkName
{
    public static bool Supported => OperatingSystem.IsLinux();

    public static string Of(string host, int port) => $"objectstore-link/{host}:{port}";

    /// <summary>The most a request may be: a batch of small puts carries one frame of data and its keys.</summary>
    public const int MaxRequestBytes = 1024 * 1024;

    /// <summary>The most a reply may be (a listing page, a batch of small objects inline).</summary>
    public const int MaxReplyBytes = 16 * 1024 * 1024;
}
