using Akka.Actor;

namespace ObjectStore.Actors.Client;

/// <summary>
/// Watches the node a client talks to, once for the client's life: <see cref="Lost"/> completes when
/// Akka's failure detector says the node is gone, so that a request waiting for its reply ends then (in
/// seconds) rather than when its timeout does (a small put allows the idle timeout and the request timeout:
/// a minute). One watch per client, not per request: a remote watch costs system messages both ways.
/// </summary>
internal sealed class NodeWatch
{
    private readonly TaskCompletionSource _lost = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public NodeWatch(ActorSystem system, IActorRef node) =>
        system.ActorOf(ActorProps.Of(() => new Watcher(node, _lost)));

    /// <summary>Completes when the node is gone; never fails.</summary>
    public Task Lost => _lost.Task;

    private sealed class Watcher : ReceiveActor
    {
        private readonly IActorRef _node;

        public Watcher(IActorRef node, TaskCompletionSource lost)
        {
            _node = node;
            Receive<Terminated>(m => m.ActorRef.Equals(_node), _ =>
            {
                lost.TrySetResult();
                Context.Stop(Self);
            });
        }

        protected override void PreStart() => Context.Watch(_node);
    }
}
