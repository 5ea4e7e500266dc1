using Akka.Configuration;

namespace ObjectStore.Actors;

/// <summary>
/// The configuration every process falls back on: akka.hocon, embedded in this assembly (as Akka ships
/// Cluster.conf inside Akka.Cluster), so every default is written once, there, with its comment. The copy
/// beside the executable and a <c>--config</c> file layer on top of it.
/// </summary>
public static class StoreConfig
{
    private const string ResourceName = "ObjectStore.Actors.akka.hocon";

    public static Config Defaults { get; } = Load();

    private static Config Load()
    {
        using var stream = typeof(StoreConfig).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"{ResourceName} is not embedded in {typeof(StoreConfig).Assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }

    /// <summary><paramref name="config"/> over the embedded defaults.</summary>
    public static Config WithDefaults(Config? config) => config is null || config.IsEmpty ? Defaults : config.WithFallback(Defaults);
}
