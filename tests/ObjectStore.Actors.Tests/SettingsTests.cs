using Akka.Configuration;

namespace ObjectStore.Actors.Tests;

/// <summary>Every default lives once, in the embedded akka.hocon; a bad or missing value names its key.</summary>
public class SettingsTests
{
    [Fact]
    public void The_defaults_come_from_the_embedded_akka_hocon()
    {
        var hocon = StoreConfig.Defaults;
        var settings = StoreSettings.Default;
        Assert.Equal(hocon.GetInt("objectstore.replication.factor"), settings.Replication.Factor);
        Assert.Equal(hocon.GetTimeSpan("objectstore.replication.pin-lease"), settings.Replication.PinLease);
        Assert.Equal(hocon.GetByteSize("objectstore.chunking.max-size"), settings.Chunking.MaxSize);
        Assert.Equal(hocon.GetString("objectstore.data-dir"), settings.DataDirectory);
        Assert.True(settings.DirectReads);
        Assert.False(StoreSettings.FromConfig(ConfigurationFactory.ParseString("objectstore.storage.direct-reads = off")).DirectReads);
    }

    [Fact]
    public void A_layered_value_wins_over_the_default_and_the_rest_stays()
    {
        var settings = StoreSettings.FromConfig(ConfigurationFactory.ParseString("objectstore.replication.window = 4"));
        Assert.Equal(4, settings.Replication.Window);
        Assert.Equal(StoreSettings.Default.Replication.Factor, settings.Replication.Factor);
    }

    [Theory]
    [InlineData("objectstore.replication.window = lots", "objectstore.replication.window")]
    [InlineData("objectstore.storage.read-parallelism = 0", "objectstore.storage.read-parallelism")]
    [InlineData("objectstore.transfer.idle-timeout = soon", "objectstore.transfer.idle-timeout")]
    [InlineData("objectstore.replication.write-quorum = 5", "objectstore.replication.write-quorum")]
    [InlineData("objectstore.chunking.min-size = 32", "objectstore.chunking.min-size")]
    [InlineData("objectstore.chunking.algorithm = rabin", "objectstore.chunking.algorithm")]
    public void A_bad_value_is_refused_with_its_key(string hocon, string key)
    {
        var e = Assert.Throws<ConfigurationException>(() => StoreSettings.FromConfig(ConfigurationFactory.ParseString(hocon)));
        Assert.Contains(key, e.Message);
    }
}
