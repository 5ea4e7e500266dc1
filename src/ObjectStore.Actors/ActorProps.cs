using Akka.Actor;

namespace ObjectStore.Actors;

/// <summary>
/// Props from a factory delegate, for every actor of this system. Akka's <c>Props.Create(() => new X(...))</c>
/// takes an expression tree and compiles its arguments each time a Props is made (akka.net#4698): for the
/// actors made per put, per chunk push, per get and per shell request that was a JIT compilation each time
/// (a fifth of a shell's start was in the JIT). A delegate is compiled once, with the rest of the code.
/// </summary>
public static class ActorProps
{
    /// <param name="factory">Called for the first instance and again on each restart: it must capture only values that do not change.</param>
    public static Props Of<T>(Func<T> factory) where T : ActorBase => Props.CreateBy(new Producer<T>(factory));

    private sealed class Producer<T>(Func<T> factory) : IIndirectActorProducer where T : ActorBase
    {
        public Type ActorType => typeof(T);
        public ActorBase Produce() => factory();
        public void Release(ActorBase actor) { }
    }
}
