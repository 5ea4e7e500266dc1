using System.Runtime.Serialization;
using System.Text;
using Akka.Actor;
using Akka.Serialization;
using Google.Protobuf;
using ObjectStore.Actors.Protocol;

namespace ObjectStore.Actors.Serialization;

/// <summary>
/// One protocol's serializer: each message type is registered once with its string manifest and its
/// protobuf form (declared in Protocol/*.proto). What comes off the network is decoded defensively:
/// malformed bytes become a SerializationException, which Akka.Remote drops while keeping the
/// association (any other exception would tear it down); a manifest this version does not know becomes
/// an <see cref="UnknownMessage"/>, which the receiver answers with a refusal.
/// </summary>
public abstract class ProtoSerializer(ExtendedActorSystem system, string protocol) : SerializerWithStringManifest(system)
{
    private readonly Dictionary<Type, (string Manifest, Func<object, byte[]> Encode)> _encoders = new();
    private readonly Dictionary<string, Func<byte[], object>> _decoders = new(StringComparer.Ordinal);

    /// <summary>The field number the mixed-version test adds to every message it writes.</summary>
    public const int TestExtraFieldNumber = 1000;

    /// <summary>
    /// Set only by the mixed-version test (environment variable <c>OBJECTSTORE_TEST_WIRE_EXTRA_FIELD=1</c>):
    /// every message carries one field this version does not declare, as a newer version's messages would.
    /// </summary>
    private static readonly bool AddTestField = Environment.GetEnvironmentVariable("OBJECTSTORE_TEST_WIRE_EXTRA_FIELD") == "1";

    protected internal void Message<T, TWire>(string manifest, MessageParser<TWire> parser, Func<T, TWire> toWire, Func<TWire, T> fromWire)
        where T : notnull where TWire : IMessage<TWire>
    {
        Raw<T>(manifest, m => toWire(m).ToByteArray(), bytes => fromWire(parser.ParseFrom(bytes)));
    }

    /// <summary>A message encoded and decoded by hand (to slice a payload out of the received bytes).</summary>
    protected internal void Raw<T>(string manifest, Func<T, byte[]> encode, Func<byte[], T> decode) where T : notnull
    {
        _encoders.Add(typeof(T), (manifest, o => encode((T)o)));
        _decoders.Add(manifest, bytes => decode(bytes));
    }

    public override string Manifest(object o) => Encoder(o).Manifest;

    public override byte[] ToBinary(object obj)
    {
        var bytes = Encoder(obj).Encode(obj);
        return AddTestField ? WithTestField(bytes) : bytes;
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (!_decoders.TryGetValue(manifest, out var decode)) return new UnknownMessage(protocol, manifest);
        try
        {
            return decode(bytes);
        }
        catch (SerializationException)
        {
            throw;
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or ArgumentException or FormatException or OverflowException
                                       or InvalidOperationException or DecoderFallbackException)
        {
            throw new SerializationException($"malformed '{manifest}' message of the {protocol} protocol: {e.Message}", e);
        }
    }

    private (string Manifest, Func<object, byte[]> Encode) Encoder(object o) =>
        _encoders.TryGetValue(o.GetType(), out var encoder)
            ? encoder
            : throw new ArgumentException($"{o.GetType()} is not a message of the {protocol} protocol", nameof(o));

    protected internal string PathOf(IActorRef actor) => Akka.Serialization.Serialization.SerializedActorPath(actor);

    protected internal IActorRef Resolve(string path) =>
        path.Length > 0 ? ResolvePath?.Invoke(path) ?? system.Provider.ResolveActorRef(path) : throw new SerializationException("actor path missing");

    /// <summary>
    /// Set where there is no actor system to resolve a path in (a shell script's link to its node, which sends
    /// to such an actor by its path): what a received actor path becomes.
    /// </summary>
    internal Func<string, IActorRef>? ResolvePath { get; init; }

    internal static byte[] WithTestField(byte[] message)
    {
        var extra = "a field from a newer version"u8;
        var tag = WireFormat.MakeTag(TestExtraFieldNumber, WireFormat.WireType.LengthDelimited);
        using var output = new MemoryStream(message.Length + extra.Length + 8);
        output.Write(message);
        using (var coded = new CodedOutputStream(output, leaveOpen: true))
        {
            coded.WriteTag(tag);
            coded.WriteBytes(ByteString.CopyFrom(extra));
        }
        return output.ToArray();
    }
}
