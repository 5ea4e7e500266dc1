using ObjectStore.Core.Validation;

namespace ObjectStore.Core.Tests;

public class ValidationTests
{
    [Theory]
    [InlineData("photos")]
    [InlineData("my.bucket-2")]
    [InlineData("abc")]
    public void Valid_bucket_names(string name) => Assert.True(BucketName.IsValid(name));

    [Theory]
    [InlineData("ab")]
    [InlineData("Photos")]
    [InlineData("-photos")]
    [InlineData("photos-")]
    [InlineData("a..b")]
    [InlineData("192.168.1.1")]
    [InlineData("xn--bucket")]
    [InlineData("bucket-s3alias")]
    [InlineData("under_score")]
    [InlineData("")]
    public void Invalid_bucket_names_say_why(string name)
    {
        var error = Assert.Throws<InvalidNameException>(() => BucketName.Validate(name));
        Assert.Contains("invalid bucket name", error.Message);
    }

    [Fact]
    public void Keys_are_limited_to_1024_utf8_bytes_without_nul()
    {
        Assert.True(ObjectKey.IsValid(new string('a', 1024)));
        Assert.False(ObjectKey.IsValid(new string('a', 1025)));
        Assert.False(ObjectKey.IsValid(new string('é', 513))); // 1026 bytes
        Assert.False(ObjectKey.IsValid("a\0b"));
        Assert.False(ObjectKey.IsValid(""));
        Assert.False(ObjectKey.IsValid("bad\uD800"));
        Assert.True(ObjectKey.IsValid("dir with spaces/ünïcödé ファイル.txt"));
        Assert.True(ObjectKey.IsValid("../../etc/passwd"));
    }

    [Fact]
    public void Addresses_split_at_the_first_slash()
    {
        Assert.Equal(new ObjectAddress("photos", "a/b/c.jpg"), ObjectAddress.ParseObject("photos/a/b/c.jpg"));
        Assert.Equal(new ObjectAddress("photos", ""), ObjectAddress.ParsePrefix("photos"));
        Assert.Throws<InvalidNameException>(() => ObjectAddress.ParseObject("photos"));
        Assert.Throws<InvalidNameException>(() => ObjectAddress.ParseObject("Bad_Bucket/key"));
    }
}
