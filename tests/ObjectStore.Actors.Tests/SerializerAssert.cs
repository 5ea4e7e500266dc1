using System.Runtime.Serialization;
using Akka.Serialization;

namespace ObjectStore.Actors.Tests;

/// <summary>Checks shared by the tests of both serializers.</summary>
public static class SerializerAssert
{
    /// <summary>Every strict prefix of a message's bytes (what a cut connection delivers) is refused with a SerializationException.</summary>
    public static void RejectsEveryTruncation(SerializerWithStringManifest serializer, object message)
    {
        var bytes = serializer.ToBinary(message);
        var manifest = serializer.Manifest(message);
        for (var length = 0; length < bytes.Length; length++)
        {
            var truncated = bytes[..length];
            Assert.Throws<SerializationException>(() => serializer.FromBinary(truncated, manifest));
        }
    }
}
