using Akka.Configuration;
using ObjectStore.Actors;

namespace ObjectStore.Node;

/// <summary>
/// Builds a process's configuration: command-line overrides, then an optional --config file, then
/// akka.hocon from beside the executable (an operator may edit that copy), then the same file as
/// embedded in the build (<see cref="StoreConfig.Defaults"/>), where every setting has its one default.
/// </summary>
public static class NodeConfig
{
    public static string DefaultHoconPath => Path.Combine(AppContext.BaseDirectory, "akka.hocon");

    public static Config Load(string? configFile, IEnumerable<string> overrides)
    {
        var config = StoreConfig.Defaults;
        if (File.Exists(DefaultHoconPath)) config = ConfigurationFactory.ParseString(File.ReadAllText(DefaultHoconPath)).WithFallback(config);
        if (configFile is not null)
        {
            if (!File.Exists(configFile)) throw new FileNotFoundException($"config file {configFile} does not exist");
            config = ConfigurationFactory.ParseString(File.ReadAllText(configFile)).WithFallback(config);
        }
        var text = string.Join("\n", overrides);
        return text.Length == 0 ? config : ConfigurationFactory.ParseString(text).WithFallback(config);
    }

    public static string Quote(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
