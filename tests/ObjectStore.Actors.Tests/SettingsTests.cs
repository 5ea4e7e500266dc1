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

    /// <summary>The store reads durations and sizes itself (HoconUnits, to spare a shell Akka's regex); it reads them as Akka does.</summary>
    [Theory]
    [InlineData("30s")] [InlineData("500ms")] [InlineData("500 ms")] [InlineData("250")] [InlineData("1.5s")] [InlineData("2 minutes")]
    [InlineData("1m")] [InlineData("3h")] [InlineData("1d")] [InlineData("10 seconds")] [InlineData("20000 micros")] [InlineData("7 millis")]
    public void A_duration_reads_as_akka_reads_it(string text)
    {
        var config = ConfigurationFactory.ParseString($"v = {text}");
        Assert.Equal(config.GetTimeSpan("v", allowInfinite: false), HoconUnits.Duration(config.GetString("v")));
    }

    [Theory]
    [InlineData("64KiB")] [InlineData("16GiB")] [InlineData("128000b")] [InlineData("128000")] [InlineData("2MiB")] [InlineData("1M")]
    [InlineData("5MB")] [InlineData("3 kB")] [InlineData("7 bytes")] [InlineData("2k")] [InlineData("1TiB")]
    public void A_size_reads_as_akka_reads_it(string text)
    {
        var config = ConfigurationFactory.ParseString($"v = {text}");
        Assert.Equal(config.GetByteSize("v"), HoconUnits.Bytes(config.GetString("v")));
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
    [InlineData("objectstore.request-timeout = -5s", "objectstore.request-timeout")]
    [InlineData("objectstore.request-timeout = 5 fortnights", "objectstore.request-timeout")]
    [InlineData("objectstore.transfer.frame-size = 64 KiBs", "objectstore.transfer.frame-size")]
    [InlineData("objectstore.transfer.frame-size = 1.5KiB", "objectstore.transfer.frame-size")]
    [InlineData("objectstore.transfer.stream-input-limit = 9000000EiB", "objectstore.transfer.stream-input-limit")]
    public void A_bad_value_is_refused_with_its_key(string hocon, string key)
    {
        var e = Assert.Throws<ConfigurationException>(() => StoreSettings.FromConfig(ConfigurationFactory.ParseString(hocon)));
        Assert.Contains(key, e.Message);
    }
}
