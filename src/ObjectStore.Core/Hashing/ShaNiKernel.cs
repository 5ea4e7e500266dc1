using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace ObjectStore.Core.Hashing;

/// <summary>
/// SHA-256 compression of two independent streams at once with the x86 SHA extensions (SHA-NI).
/// </summary>
/// <remarks>
/// Why: a put hashes every byte twice, once for its chunk's id and once for the object's hash. One
/// SHA-NI stream waits on the latency of <c>sha256rnds2</c>, so a second, independent stream fits into
/// the gaps: both hashes in about the time of one (figures and the C prototype: docs/BENCHMARKS.md).
/// Why by hand, and why assembled at run time: .NET 10 has SHA intrinsics only for Arm, OpenSSL
/// offers no two-stream call, and a native library would need a C compiler on every build machine.
/// So the kernel is assembled here with Iced (an x86 assembler library) into memory that is first
/// writable, then executable only (W^X). Linux on x64 only (System V calling convention, mmap);
/// elsewhere, or where the CPU lacks SHA-NI or the system refuses executable memory,
/// <see cref="Instance"/> is null and callers use the runtime's SHA-256.
/// The state is kept in the order the instructions want it: words f,e,b,a then h,g,d,c.
/// </remarks>
public sealed unsafe partial class ShaNiKernel
{
    private readonly delegate* unmanaged<uint*, uint*, byte*, byte*, nuint, byte*, void> _compress;
    private readonly byte* _constants;

    private ShaNiKernel(nint code, byte* constants)
    {
        _compress = (delegate* unmanaged<uint*, uint*, byte*, byte*, nuint, byte*, void>)code;
        _constants = constants;
    }

    /// <summary>The kernel, or null where it cannot run (then use <see cref="System.Security.Cryptography.SHA256"/>).</summary>
    public static ShaNiKernel? Instance => Lazy.Value;

    private static readonly Lazy<ShaNiKernel?> Lazy = new(Create);

    /// <summary>
    /// Compresses <paramref name="blocks"/> 64-byte blocks of <paramref name="a"/> into <paramref name="stateA"/>
    /// and as many of <paramref name="b"/> into <paramref name="stateB"/>, interleaved. The two may be the
    /// same data, never the same state.
    /// </summary>
    public void CompressPair(Span<uint> stateA, Span<uint> stateB, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, int blocks)
    {
        if (stateA.Length != 8 || stateB.Length != 8) throw new ArgumentException("a SHA-256 state is 8 words");
        if (a.Length < blocks * 64 || b.Length < blocks * 64) throw new ArgumentException("fewer bytes than blocks");
        if (blocks == 0) return;
        fixed (uint* sa = stateA)
        fixed (uint* sb = stateB)
        fixed (byte* pa = a)
        fixed (byte* pb = b)
            _compress(sa, sb, pa, pb, (nuint)blocks, _constants);
    }

    private static ShaNiKernel? Create()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return null;
        if (!Ssse3.IsSupported || !Sse41.IsSupported || !X86Base.IsSupported) return null;
        // CPUID leaf 7, EBX bit 29: the SHA extensions.
        if ((X86Base.CpuId(7, 0).Ebx & (1 << 29)) == 0) return null;
        if (Environment.GetEnvironmentVariable("OBJECTSTORE_SHA_NI") is "0" or "off") return null;
        try
        {
            var code = Assemble();
            var memory = Mmap(0, (nuint)code.Length, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
            if (memory == -1) return null;
            Marshal.Copy(code, 0, memory, code.Length);
            if (Mprotect(memory, (nuint)code.Length, ProtRead | ProtExec) != 0)
            {
                Munmap(memory, (nuint)code.Length);
                return null;
            }
            var constants = (byte*)NativeMemory.AlignedAlloc((nuint)(RoundConstants.Length * 4 + 16), 64);
            for (var i = 0; i < RoundConstants.Length; i++) ((uint*)constants)[i] = RoundConstants[i];
            // pshufb mask that turns each big-endian message word into a little-endian lane.
            for (var i = 0; i < 16; i++) constants[256 + i] = (byte)(i / 4 * 4 + 3 - i % 4);
            var kernel = new ShaNiKernel(memory, constants);
            return kernel.PassesSelfTest() ? kernel : null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>A wrong kernel would give every chunk a wrong id: compare against the runtime's SHA-256 before first use.</summary>
    private bool PassesSelfTest()
    {
        var data = new byte[64 * 5];
        for (var i = 0; i < data.Length; i++) data[i] = (byte)(i * 131 + 7);
        foreach (var length in new[] { 0, 3, 55, 56, 64, 119, 200, data.Length })
        {
            var hasher = new ObjectHasher(this);
            var got = hasher.AppendChunk(data.AsSpan(0, length));
            if (got != ContentHash.Compute(data.AsSpan(0, length))) return false;
            if (hasher.Complete() != got) return false;
        }
        return true;
    }

    internal static readonly uint[] RoundConstants =
    [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ];

    /// <summary>
    /// void compress(uint* stateA, uint* stateB, byte* a, byte* b, nuint blocks, byte* constants) —
    /// System V: rdi, rsi, rdx, rcx, r8, r9. The rounds follow Intel's SHA-NI reference code, each step
    /// done for stream A and then for stream B, so the two chains of sha256rnds2 overlap.
    /// </summary>
    private static byte[] Assemble()
    {
        var asm = new Assembler(64);
        AssemblerRegisterXMM s0A = xmm10, s1A = xmm11, s0B = xmm12, s1B = xmm13, mask = xmm14;
        AssemblerRegisterXMM[] msgA = [xmm2, xmm3, xmm4, xmm5], msgB = [xmm6, xmm7, xmm8, xmm9];
        var loop = asm.CreateLabel();
        var done = asm.CreateLabel();

        // A valid target of an indirect call where the CPU enforces indirect-branch tracking (CET); a no-op elsewhere.
        asm.endbr64();
        // Legacy-SSE code after AVX code that left the upper halves of the vector registers dirty pays
        // for merging them on every instruction, as the kernel did when called from .NET code that had
        // just copied a state with AVX-512 moves (docs/BENCHMARKS.md). (Vector registers are
        // caller-saved in the System V ABI, so clearing their upper halves is allowed.)
        asm.vzeroupper();
        asm.movdqu(s0A, __xmmword_ptr[rdi]);
        asm.movdqu(s1A, __xmmword_ptr[rdi + 16]);
        asm.movdqu(s0B, __xmmword_ptr[rsi]);
        asm.movdqu(s1B, __xmmword_ptr[rsi + 16]);
        asm.movdqa(mask, __xmmword_ptr[r9 + 256]);
        asm.test(r8, r8);
        asm.jz(done);
        // The state before each block, added back after it, is kept in the red zone below rsp (a leaf
        // function may use 128 bytes there), in 64 bytes aligned to a cache line so that no slot
        // straddles two lines.
        asm.lea(rax, __[rsp - 64]);
        asm.and(rax, -64);
        asm.Label(ref loop);
        asm.movdqa(__xmmword_ptr[rax], s0A);
        asm.movdqa(__xmmword_ptr[rax + 16], s1A);
        asm.movdqa(__xmmword_ptr[rax + 32], s0B);
        asm.movdqa(__xmmword_ptr[rax + 48], s1B);
        for (var i = 0; i < 4; i++)
        {
            asm.movdqu(msgA[i], __xmmword_ptr[rdx + 16 * i]);
            asm.pshufb(msgA[i], mask);
            asm.movdqu(msgB[i], __xmmword_ptr[rcx + 16 * i]);
            asm.pshufb(msgB[i], mask);
        }
        for (var round = 0; round < 16; round++)
        {
            var j = round % 4;
            if (round >= 4)
            {
                Schedule(asm, msgA[j], msgA[(j + 1) % 4], msgA[(j + 2) % 4], msgA[(j + 3) % 4]);
                Schedule(asm, msgB[j], msgB[(j + 1) % 4], msgB[(j + 2) % 4], msgB[(j + 3) % 4]);
            }
            FourRounds(asm, s0A, s1A, msgA[j], round);
            FourRounds(asm, s0B, s1B, msgB[j], round);
        }
        asm.paddd(s0A, __xmmword_ptr[rax]);
        asm.paddd(s1A, __xmmword_ptr[rax + 16]);
        asm.paddd(s0B, __xmmword_ptr[rax + 32]);
        asm.paddd(s1B, __xmmword_ptr[rax + 48]);
        asm.add(rdx, 64);
        asm.add(rcx, 64);
        asm.dec(r8);
        asm.jnz(loop);
        asm.Label(ref done);
        asm.movdqu(__xmmword_ptr[rdi], s0A);
        asm.movdqu(__xmmword_ptr[rdi + 16], s1A);
        asm.movdqu(__xmmword_ptr[rsi], s0B);
        asm.movdqu(__xmmword_ptr[rsi + 16], s1B);
        asm.ret();

        var stream = new MemoryStream();
        asm.Assemble(new StreamCodeWriter(stream), 0);
        return stream.ToArray();
    }

    /// <summary>Four rounds: W = message words + K; two sha256rnds2, each taking its two words from xmm0.</summary>
    private static void FourRounds(Assembler asm, AssemblerRegisterXMM s0, AssemblerRegisterXMM s1, AssemblerRegisterXMM message, int round)
    {
        asm.movdqa(xmm0, message);
        asm.paddd(xmm0, __xmmword_ptr[r9 + 16 * round]);
        asm.sha256rnds2(s1, s0);
        asm.pshufd(xmm0, xmm0, 0x0E);
        asm.sha256rnds2(s0, s1);
    }

    /// <summary>The next four message words into <paramref name="m0"/>: msg1, + words 9..12 back, msg2.</summary>
    private static void Schedule(Assembler asm, AssemblerRegisterXMM m0, AssemblerRegisterXMM m1, AssemblerRegisterXMM m2, AssemblerRegisterXMM m3)
    {
        asm.sha256msg1(m0, m1);
        asm.movdqa(xmm1, m3);
        asm.palignr(xmm1, m2, 4);
        asm.paddd(m0, xmm1);
        asm.sha256msg2(m0, m3);
    }

    private const int ProtRead = 1, ProtWrite = 2, ProtExec = 4, MapPrivate = 0x02, MapAnonymous = 0x20;

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "mprotect", SetLastError = true)]
    private static partial int Mprotect(nint address, nuint length, int protection);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int Munmap(nint address, nuint length);
}
