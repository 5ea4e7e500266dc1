using System.Runtime.CompilerServices;
using Akka.Actor;

namespace ObjectStore.Actors.Replication.Repair;

/// <summary>
/// Whether this node is serving puts or gets right now (a put's chunk placed here or sent here, a chunk read
/// for a get within the last second), so that repair slows to <see cref="RepairSettings.BusyRate"/> and
/// leaves the disk and the cores to them (the figures are in akka.hocon and docs/BENCHMARKS.md).
/// </summary>
public sealed class ForegroundActivity
{
    private static readonly ConditionalWeakTable<ActorSystem, ForegroundActivity> PerSystem = new();
    private static readonly long Window = TimeSpan.FromSeconds(1).Ticks;
    private long _lastTicks;

    public static ForegroundActivity Of(ActorSystem system) => PerSystem.GetValue(system, _ => new ForegroundActivity());

    public void Touch() => Volatile.Write(ref _lastTicks, DateTime.UtcNow.Ticks);

    public bool Busy => DateTime.UtcNow.Ticks - Volatile.Read(ref _lastTicks) < Window;

    /// <summary>Whether an upload id belongs to the repair queue's own transfers (which are not foreground work).</summary>
    public static bool IsRepair(string uploadId) => uploadId.StartsWith(RepairUploadPrefix, StringComparison.Ordinal);

    public const string RepairUploadPrefix = "repair-";
}
