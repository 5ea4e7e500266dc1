using ObjectStore.Actors.Commands.Palettes;

namespace ObjectStore.Actors.Commands;

/// <summary>The one place palettes are registered: a feature with commands of its own adds its palette here.</summary>
public static class CommandPalettes
{
    public static IReadOnlyList<ICommandPalette> BuiltIn() =>
    [
        new ClusterPalette(),
        new ActorPalette(),
        new LogPalette(),
        new NodeInfoPalette(),
        new StorePalette(),
        new ReplicationPalette(),
    ];
}
