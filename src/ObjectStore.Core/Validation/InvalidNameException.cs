namespace ObjectStore.Core.Validation;

/// <summary>A bucket name or object key that breaks the naming rules; the message says which rule.</summary>
public sealed class InvalidNameException(string message) : ArgumentException(message);
