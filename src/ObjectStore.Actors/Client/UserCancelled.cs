namespace ObjectStore.Actors.Client;

/// <summary>The user cancelled a transfer (Ctrl+C): its actor tells the node and ends it there too.</summary>
public sealed record UserCancelled : Akka.Actor.INoSerializationVerificationNeeded
{
    public static readonly UserCancelled Instance = new();
}
