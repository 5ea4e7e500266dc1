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

    /// <summary>
    /// Where `put FILE TARGET` stores a file, as `aws s3 cp` does: TARGET = BUCKET or BUCKET/PREFIX/ (ending
    /// in '/') puts the file's own name after it; BUCKET/KEY names the key.
    /// </summary>
    public static ObjectAddress ParseTargetFor(string text, string fileName)
    {
        var address = Split(text);
        BucketName.Validate(address.Bucket);
        if (address.Key.Length == 0 || address.Key.EndsWith('/')) address = address with { Key = address.Key + fileName };
        ObjectKey.Validate(address.Key);
        return address;
    }

    private static ObjectAddress Split(string text)
    {
        var slash = text.IndexOf('/');
        return slash < 0 ? new ObjectAddress(text, "") : new ObjectAddress(text[..slash], text[(slash + 1)..]);
    }

    public override string ToString() => Key.Length == 0 ? Bucket : $"{Bucket}/{Key}";
}
