using Akka.Actor;
using Akka.Serialization;
using ObjectStore.Actors.Serialization;

namespace ObjectStore.Actors.Tests;

/// <summary>
/// The wire format is a promise to nodes and shells of other versions: bytes checked into Golden/ must
/// still decode to the same values, and today's encoding must still produce them. A message with a field
/// this version does not know (from a newer node) must decode as if the field were not there.
/// Set OBJECTSTORE_WRITE_GOLDEN=1 to write missing files after adding a message; never to rewrite one.
/// </summary>
public class WireGoldenTests : StoreTestKit
{
    public static TheoryData<WireSamples.Sample> Samples() => new(WireSamples.All);

    private static string GoldenPath(WireSamples.Sample s) => Path.Combine(AppContext.BaseDirectory, "Golden", s.Protocol, s.Name + ".hex");

    private IActorRef Actor(string path) => ((ExtendedActorSystem)Sys).Provider.ResolveActorRef(path);

    private SerializerWithStringManifest SerializerOf(object message) =>
        (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(message);

    [Theory]
    [MemberData(nameof(Samples))]
    public void Golden_bytes_decode_to_the_expected_message_and_todays_encoding_still_writes_them(WireSamples.Sample sample)
    {
        var message = sample.Make(Actor);
        var serializer = SerializerOf(message);
        var encoded = serializer.ToBinary(message);
        if (!File.Exists(GoldenPath(sample)) && Environment.GetEnvironmentVariable("OBJECTSTORE_WRITE_GOLDEN") == "1") WriteGolden(sample, encoded);
        var golden = Convert.FromHexString(File.ReadAllText(GoldenPath(sample)).Trim());

        var decoded = serializer.FromBinary(golden, serializer.Manifest(message));
        Assert.Equal(WireSamples.Describe(message), WireSamples.Describe(decoded));
        Assert.Equal(Convert.ToHexString(golden), Convert.ToHexString(encoded));
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void A_message_with_a_field_from_a_newer_version_decodes_as_without_it(WireSamples.Sample sample)
    {
        var message = sample.Make(Actor);
        var serializer = SerializerOf(message);
        var golden = Convert.FromHexString(File.ReadAllText(GoldenPath(sample)).Trim());
        var newer = ProtoSerializer.WithTestField(golden);
        Assert.True(newer.Length > golden.Length);
        var decoded = serializer.FromBinary(newer, serializer.Manifest(message));
        Assert.Equal(WireSamples.Describe(message), WireSamples.Describe(decoded));
    }

    [Fact]
    public void Every_wire_message_type_has_a_golden_sample()
    {
        var sampled = WireSamples.All.Select(s => s.Make(Actor).GetType()).ToHashSet();
        var missing = WireSamples.WireTypes().Where(t => !sampled.Contains(t)).Select(t => t.FullName).ToList();
        Assert.Empty(missing);
    }

    /// <summary>Writes a new golden file into the source tree (beside this test), where it is then checked in.</summary>
    private static void WriteGolden(WireSamples.Sample sample, byte[] bytes)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ObjectStore.Actors.Tests.csproj"))) dir = dir.Parent;
        Assert.NotNull(dir);
        foreach (var root in new[] { dir.FullName, AppContext.BaseDirectory })
        {
            var path = Path.Combine(root, "Golden", sample.Protocol, sample.Name + ".hex");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, Convert.ToHexString(bytes) + "\n");
        }
    }
}
