using Akka.Configuration;

namespace ObjectStore.Actors;

/// <summary>
/// Reads settings by their full key from a configuration that has the embedded defaults beneath it, so a
/// key that is missing is a broken build or a typo, reported with its name, never a silent default.
/// </summary>
internal readonly struct SettingsReader(Config config)
{
    private Config Config { get; } = StoreConfig.WithDefaults(config);

    private void Require(string key)
    {
        if (!Config.HasPath(key)) throw new ConfigurationException($"setting {key} is missing");
    }

    public int Int(string key)
    {
        Require(key);
        try { return Config.GetInt(key); }
        catch (Exception e) when (e is FormatException or OverflowException or ConfigurationException) { throw Bad(key, "a whole number", e); }
    }

    public bool Bool(string key)
    {
        Require(key);
        try { return Config.GetBoolean(key); }
        catch (Exception e) when (e is FormatException or ConfigurationException) { throw Bad(key, "on or off", e); }
    }

    public string String(string key)
    {
        Require(key);
        return Config.GetString(key);
    }

    public TimeSpan Duration(string key)
    {
        Require(key);
        try { return HoconUnits.Duration(Config.GetString(key)); }
        catch (Exception e) when (e is FormatException or OverflowException or ConfigurationException) { throw Bad(key, "a duration like 10s", e); }
    }

    public int Bytes(string key)
    {
        Require(key);
        try { return checked((int)HoconUnits.Bytes(Config.GetString(key))); }
        catch (Exception e) when (e is FormatException or OverflowException or ConfigurationException) { throw Bad(key, "a size like 64KiB", e); }
    }

    public long LongBytes(string key)
    {
        Require(key);
        try { return HoconUnits.Bytes(Config.GetString(key)); }
        catch (Exception e) when (e is FormatException or OverflowException or ConfigurationException) { throw Bad(key, "a size like 16GiB", e); }
    }

    private static ConfigurationException Bad(string key, string expected, Exception e) =>
        new($"setting {key} must be {expected}: {e.Message}");
}
