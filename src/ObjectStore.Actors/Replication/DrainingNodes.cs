using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Akka.Actor;

namespace ObjectStore.Actors.Replication;

/// <summary>
/// The storage nodes this node knows to be draining before they leave (`leave`): they own nothing any more
/// (placement skips them, so new copies go to the nodes that will remain), yet still serve what they hold.
/// A draining node tells every member, and repeats it well within <see cref="Ttl"/>; a mark not repeated
/// (the node died, or changed its mind) lapses by itself.
/// </summary>
public sealed class DrainingNodes
{
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);

    private static readonly ConditionalWeakTable<ActorSystem, DrainingNodes> PerSystem = new();
    private readonly ConcurrentDictionary<string, DateTime> _until = new(StringComparer.Ordinal);

    public static DrainingNodes Of(ActorSystem system) => PerSystem.GetValue(system, _ => new DrainingNodes());

    public void Mark(string nodeId, TimeSpan ttl) => _until[nodeId] = DateTime.UtcNow + (ttl > Ttl ? Ttl : ttl);

    public void Clear(string nodeId) => _until.TryRemove(nodeId, out _);

    public bool IsDraining(string nodeId) => _until.TryGetValue(nodeId, out var until) && until > DateTime.UtcNow;
}
