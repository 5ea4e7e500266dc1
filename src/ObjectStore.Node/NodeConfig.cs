using Akka.Configuration;

namespace ObjectStore.Node;

/// <summary>
/// Builds a process's configuration: command-line overrides, then an optional --config file, then
/// akka.hocon from beside the executable. Every setting has its documented home in akka.hocon.
/// </summary>
public static class NodeConfig
{
    public static string DefaultHoconPath => Path.Combine(AppContext.BaseDirectory, "akka.hocon");

    public static Config Load(string? configFile, IEnumerable<string> overrides)
    {
        if (!File.Exists(DefaultHoconPath))
            throw new FileNotFoundException($"akka.hocon not found beside the executable ({DefaultHoconPath})");
        var config = ConfigurationFactory.ParseString(File.ReadAllText(DefaultHoconPath));
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
