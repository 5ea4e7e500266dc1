namespace ObjectStore.Core.Validation;

/// <summary>"BUCKET/KEY" or "BUCKET/PREFIX" as typed in the shell.</summary>
public readonly record struct ObjectAddress(string Bucket, string Key)
{
    /// <summary>Parses BUCKET/KEY; both parts must be valid.</summary>
    public static ObjectAddress ParseObject(string text)
    {
        var address = Split(text);
        BucketName.Validate(address.Bucket);
        ObjectKey.Validate(address.Key);
        return address;
    }

    /// <summary>Parses BUCKET or BUCKET/PREFIX; the prefix may be empty.</summary>
    public static ObjectAddress ParsePrefix(string text)
    {
        var address = Split(text);
        BucketName.Validate(address.Bucket);
        if (address.Key.Length > 0) ObjectKey.Validate(address.Key);
        return address;
    }

    private static ObjectAddress Split(string text)
    {
        var slash = text.IndexOf('/');
        return slash < 0 ? new ObjectAddress(text, "") : new ObjectAddress(text[..slash], text[(slash + 1)..]);
    }

    public override string ToString() => Key.Length == 0 ? Bucket : $"{Bucket}/{Key}";
}
