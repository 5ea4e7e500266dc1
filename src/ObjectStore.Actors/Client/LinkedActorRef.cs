using Akka.Actor;
using Akka.Util;

namespace ObjectStore.Actors.Client;

/// <summary>
/// An actor of the node as a shell script knows it over its <see cref="NodeLink"/>: a path the node sent (or
/// the coordinator's), which the link names as the target of what is sent to it. There is no actor system
/// behind it, so it can only be told things or asked through <see cref="StoreClient"/>.
/// </summary>
internal sealed class LinkedActorRef(NodeLink link, string target, ActorPath path) : IActorRef
{
    public NodeLink Link { get; } = link;

    /// <summary>As the node wrote it (empty: the coordinator); sent back unchanged.</summary>
    public string Target { get; } = target;

    public ActorPath Path { get; } = path;

    public void Tell(object message, IActorRef sender) => Link.Tell(Target, message);

    public bool Equals(IActorRef? other) => other is LinkedActorRef l && ReferenceEquals(l.Link, Link) && l.Target == Target;

    public override bool Equals(object? obj) => obj is IActorRef other && Equals(other);

    public override int GetHashCode() => Target.GetHashCode();

    public int CompareTo(IActorRef? other) => other is null ? 1 : Path.CompareTo(other.Path);

    public int CompareTo(object? obj) => obj is IActorRef other ? CompareTo(other) : 1;

    public ISurrogate ToSurrogate(ActorSystem system) =>
        throw new NotSupportedException("an actor known over a shell's link is not sent on inside other messages");

    public override string ToString() => $"[link]{Path}";
}
