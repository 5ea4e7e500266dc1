using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Security.Cryptography;
using FsCheck;
using FsCheck.Xunit;
using ObjectStore.Core.Hashing;

namespace ObjectStore.Core.Tests;

public class ObjectHasherTests
{
    private static ObjectHasher Create() => new(ShaNiKernel.Instance!);

    [Fact]
    public void The_kernel_is_used_on_a_linux_x64_machine_whose_cpu_has_sha_ni()
    {
        // The kernel disables itself when its self-test fails; on a machine that has SHA-NI that would
        // be a bug hidden behind the slower path, so it must show here.
        var hasShaNi = OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64
            && X86Base.IsSupported && (X86Base.CpuId(7, 0).Ebx & (1 << 29)) != 0
            && Environment.GetEnvironmentVariable("OBJECTSTORE_SHA_NI") is not ("0" or "off");
        Assert.Equal(hasShaNi, ShaNiKernel.Instance is not null);
    }

    [ShaNiFact]
    public void Chunk_ids_and_object_hash_match_sha256_at_every_length_around_block_and_padding_edges()
    {
        var data = new byte[1000];
        new System.Random(5).NextBytes(data);
        // Lengths where SHA-256 padding needs one or two blocks, and object offsets at every residue mod 64.
        int[] lengths = [0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 191, 200];
        foreach (var first in lengths)
        foreach (var second in lengths)
        {
            var hasher = Create();
            var a = data.AsSpan(0, first);
            var b = data.AsSpan(first, second);
            Assert.Equal(ContentHash.Compute(a), hasher.AppendChunk(a));
            Assert.Equal(ContentHash.Compute(b), hasher.AppendChunk(b));
            Assert.Equal(ContentHash.Compute(data.AsSpan(0, first + second)), hasher.Complete());
        }
    }

    [Property(MaxTest = 60)]
    public Property Any_split_of_any_bytes_gives_the_sha256_of_each_piece_and_of_the_whole(PositiveInt seed, NonNegativeInt size, PositiveInt pieces)
    {
        var data = new byte[size.Get % 300_000];
        new System.Random(seed.Get).NextBytes(data);
        var random = new System.Random(seed.Get + 1);
        var cuts = Enumerable.Range(0, pieces.Get % 12).Select(_ => random.Next(data.Length + 1)).Append(0).Append(data.Length).Order().ToArray();
        if (ShaNiKernel.Instance is null) return true.ToProperty(); // nothing to compare on this CPU
        var ok = true;
        var hasher = Create();
        for (var i = 0; i + 1 < cuts.Length; i++)
        {
            var piece = data.AsSpan(cuts[i], cuts[i + 1] - cuts[i]);
            ok &= hasher.AppendChunk(piece) == ContentHash.FromBytes(SHA256.HashData(piece));
        }
        ok &= hasher.Complete() == ContentHash.FromBytes(SHA256.HashData(data));
        return ok.ToProperty();
    }

    [ShaNiFact]
    public void A_large_object_in_chunks_of_uneven_sizes()
    {
        var data = new byte[9 * 1024 * 1024 + 13];
        new System.Random(9).NextBytes(data);
        var hasher = Create();
        var offset = 0;
        foreach (var size in new[] { 1_048_573, 4_194_304, 262_145, 3 })
        {
            Assert.Equal(ContentHash.Compute(data.AsSpan(offset, size)), hasher.AppendChunk(data.AsSpan(offset, size)));
            offset += size;
        }
        hasher.AppendChunk(data.AsSpan(offset));
        Assert.Equal(ContentHash.Compute(data), hasher.Complete());
    }
}

/// <summary>Runs where the SHA-NI kernel is available (the kernel test above says whether it should be).</summary>
public sealed class ShaNiFactAttribute : FactAttribute
{
    public ShaNiFactAttribute()
    {
        if (ShaNiKernel.Instance is null) Skip = "no SHA-NI kernel on this machine";
    }
}
