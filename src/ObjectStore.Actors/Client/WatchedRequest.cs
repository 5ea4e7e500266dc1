using Akka.Actor;

namespace ObjectStore.Actors.Client;

/// <summary>
/// One request to the node and its reply, like Ask, but watching the node: when the node's process dies
/// the caller hears it once Akka's failure detector says so (seconds), not when the request's timeout
/// ends (a small put allows the idle timeout and the request timeout: a minute).
/// </summary>
internal static class WatchedRequest
{
    public sealed class NodeLostException(string message) : Exception(message);

    public static Task<object> Send(ActorSystem system, IActorRef node, object request, TimeSpan timeout)
    {
        var reply = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
        system.ActorOf(ActorProps.Of(() => new Watcher(node, request, reply, timeout)));
        return reply.Task;
    }

    private sealed class Watcher : ReceiveActor
    {
        private readonly IActorRef _node;
        private readonly object _request;
        private readonly TaskCompletionSource<object> _reply;
        private readonly TimeSpan _timeout;

        public Watcher(IActorRef node, object request, TaskCompletionSource<object> reply, TimeSpan timeout)
        {
            (_node, _request, _reply, _timeout) = (node, request, reply, timeout);
            Receive<Terminated>(m => m.ActorRef.Equals(_node), _ => End(() => _reply.TrySetException(new NodeLostException($"the node at {_node.Path.Address} went away"))));
            Receive<ReceiveTimeout>(_ => End(() => _reply.TrySetException(new AskTimeoutException("no reply"))));
            ReceiveAny(m => End(() => _reply.TrySetResult(m)));
        }

        protected override void PreStart()
        {
            Context.Watch(_node);
            Context.SetReceiveTimeout(_timeout);
            _node.Tell(_request);
        }

        /// <summary>Stopped from outside (the shell's actor system ending): the caller is not left waiting.</summary>
        protected override void PostStop() => _reply.TrySetException(new AskTimeoutException("the client stopped"));

        private void End(Action complete)
        {
            complete();
            Context.Stop(Self);
        }
    }
}
