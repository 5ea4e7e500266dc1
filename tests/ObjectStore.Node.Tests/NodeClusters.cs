namespace ObjectStore.Node.Tests;

/// <summary>
/// Tests that run clusters of node processes run one at a time, and alone: several at once on a 2-core machine
/// starve the nodes' heartbeats, and a node then looks dead to the others.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NodeClusters
{
    public const string Name = "node clusters";
}
