using System.Text;

namespace ObjectStore.Actors.Protocol;

/// <summary>
/// What one object costs in a batch of small puts or gets, so that a batch's request and its reply both
/// stay well inside Akka.Remote's frame (akka.remote...maximum-frame-size, 128000 bytes): its bytes, its key
/// up to three times (the key, its info, an error naming it) and room for the rest of its info and a reason.
/// A batch holds objects costing at most one transfer frame (64 KiB) in all.
/// </summary>
public static class SmallBatches
{
    private const int PerObject = 512;

    public static long Cost(long size, string key) => size + KeyCost(key);

    /// <summary>An object's cost besides its bytes.</summary>
    public static long KeyCost(string key) => 3L * Encoding.UTF8.GetByteCount(key) + PerObject;
}
