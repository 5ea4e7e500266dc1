namespace ObjectStore.Actors;

/// <summary>
/// A failure that a supervisor meets with a retry (a chunk push a peer refused or did not answer): Akka
/// logs every failure of a supervised actor at ERROR, but this one asks nothing of an operator unless the
/// retries run out, which is logged on its own. The node's logger shows it as a WARNING.
/// </summary>
public sealed class RetriedFailureException(string message) : Exception(message);
