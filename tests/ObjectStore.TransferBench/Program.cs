using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Akka.Streams;
using Akka.Streams.Dsl;
using ObjectStore.Actors;
using ObjectStore.Actors.Transfer;
using static ObjectStore.Actors.Protocol.ChunkTransferProtocol;

// Moves MIB mebibytes from one actor system to another over Akka.Remote on loopback (both in this process,
// so every message is serialized and crosses a real TCP connection), ROUNDS times each way, alternating:
//   window:     the store's chunk transfer — 64 KiB ChunkParts through WindowedSender, 16 in flight, one ack each
//   streamrefs: an Akka.Streams SourceRef<byte[]> of 64 KiB elements, consumed on the other system
// each as one long stream, and as the store moves data: 1 MiB chunks, each its own transfer, 8 at once.
// Usage: dotnet run -c Release --project tests/ObjectStore.TransferBench -- [MIB] [ROUNDS]
var mib = Math.Clamp(args.Length > 0 ? int.Parse(args[0]) : 256, 1, 2047); // offsets are 32-bit, as a chunk's are
var rounds = args.Length > 1 ? int.Parse(args[1]) : 5;
const int Part = 64 * 1024;
const int Window = 16;
const int ChunkSize = 1024 * 1024;
const int Concurrent = 8;
var total = (long)mib * 1024 * 1024;
var payload = new byte[Part];
Random.Shared.NextBytes(payload);

var config = ConfigurationFactory.ParseString("""
    akka.actor.provider = remote
    akka.remote.dot-netty.tcp.port = 0
    akka.loglevel = WARNING
    akka.coordinated-shutdown.run-by-default-clr-shutdown-hook = off
    """).WithFallback(ActorMaterializer.DefaultConfig()).WithFallback(StoreConfig.Defaults);
using var sender = ActorSystem.Create("sender", config);
using var receiver = ActorSystem.Create("receiver", config);
var receiverAddress = ((ExtendedActorSystem)receiver).Provider.DefaultAddress;
var windowSink = receiver.ActorOf(Props.Create(() => new PartSink()), "parts");
var streamSink = receiver.ActorOf(Props.Create(() => new StreamRefSink()), "streams");
var materializer = sender.Materializer();

async Task<double> Windowed()
{
    var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
    var target = sender.ActorSelection(new RootActorPath(receiverAddress) / "user" / "parts").ResolveOne(TimeSpan.FromSeconds(10)).Result;
    var watch = Stopwatch.StartNew();
    sender.ActorOf(Props.Create(() => new PartSource(target, total, payload, Window, done)));
    await done.Task.WaitAsync(TimeSpan.FromMinutes(5));
    return total / watch.Elapsed.TotalSeconds / 1e6;
}

async Task<double> StreamRefs()
{
    var watch = Stopwatch.StartNew();
    var count = (int)(total / Part);
    var sourceRef = await Source.Repeat(payload).Take(count).RunWith(Akka.Streams.Dsl.StreamRefs.SourceRef<byte[]>(), materializer);
    var target = sender.ActorSelection(new RootActorPath(receiverAddress) / "user" / "streams");
    var received = await target.Ask<long>(sourceRef, TimeSpan.FromMinutes(5));
    if (received != total) throw new InvalidOperationException($"received {received} of {total} bytes");
    return total / watch.Elapsed.TotalSeconds / 1e6;
}

async Task<double> WindowedChunks()
{
    var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
    var target = sender.ActorSelection(new RootActorPath(receiverAddress) / "user" / "parts").ResolveOne(TimeSpan.FromSeconds(10)).Result;
    var watch = Stopwatch.StartNew();
    sender.ActorOf(Props.Create(() => new ChunkPusher(target, (int)(total / ChunkSize), payload, Window, Concurrent, done)));
    await done.Task.WaitAsync(TimeSpan.FromMinutes(5));
    return total / watch.Elapsed.TotalSeconds / 1e6;
}

async Task<double> StreamRefChunks()
{
    var watch = Stopwatch.StartNew();
    var target = sender.ActorSelection(new RootActorPath(receiverAddress) / "user" / "streams");
    var chunks = (int)(total / ChunkSize);
    using var slots = new SemaphoreSlim(Concurrent);
    var all = Enumerable.Range(0, chunks).Select(async _ =>
    {
        await slots.WaitAsync();
        try
        {
            var sourceRef = await Source.Repeat(payload).Take(ChunkSize / Part).RunWith(Akka.Streams.Dsl.StreamRefs.SourceRef<byte[]>(), materializer);
            var received = await target.Ask<long>(sourceRef, TimeSpan.FromMinutes(1));
            if (received != ChunkSize) throw new InvalidOperationException($"a chunk of {received} bytes");
        }
        finally
        {
            slots.Release();
        }
    });
    await Task.WhenAll(all);
    return total / watch.Elapsed.TotalSeconds / 1e6;
}

await Windowed();
await StreamRefs(); // warm-up, not reported
await WindowedChunks();
await StreamRefChunks();
Console.WriteLine($"{mib} MiB over Akka.Remote on loopback, 64 KiB per message; MB/s per round");
Console.WriteLine($"{"round",-6} {"window",10} {"stream refs",12} {"1 MiB x 8: window",18} {"stream refs",12}");
var w = new List<double>();
var s = new List<double>();
var wc = new List<double>();
var sc = new List<double>();
for (var round = 1; round <= rounds; round++)
{
    w.Add(await Windowed());
    s.Add(await StreamRefs());
    wc.Add(await WindowedChunks());
    sc.Add(await StreamRefChunks());
    Console.WriteLine($"{round,-6} {w[^1],10:0} {s[^1],12:0} {wc[^1],18:0} {sc[^1],12:0}");
}
static double Median(List<double> v) => v.Order().ElementAt(v.Count / 2);
static string Range(List<double> v) => $"{v.Min():0}-{v.Max():0}";
Console.WriteLine($"{"median",-6} {Median(w),10:0} {Median(s),12:0} {Median(wc),18:0} {Median(sc),12:0}");
Console.WriteLine($"{"range",-6} {Range(w),10} {Range(s),12} {Range(wc),18} {Range(sc),12}");
await Task.WhenAll(sender.Terminate(), receiver.Terminate());

/// <summary>Sends the bytes as ChunkParts through the store's WindowedSender, as a chunk push does.</summary>
sealed class PartSource : ReceiveActor
{
    public PartSource(IActorRef target, long total, byte[] payload, int window, TaskCompletionSource<bool> done)
    {
        var source = new ArrayQueueSource();
        for (long sent = 0; sent < total; sent += payload.Length) source.Add(payload);
        source.End();
        var transfer = new WindowedSender(source, payload.Length, window,
            (_, offset, data) => target.Tell(new ChunkPart(1, checked((int)offset), data), Self), TimeSpan.FromSeconds(30));
        Receive<ChunkPartAck>(m =>
        {
            transfer.AcknowledgeBytes(m.Received);
            transfer.Pump();
            if (!transfer.Complete) return;
            done.TrySetResult(true);
            Context.Stop(Self);
        });
        transfer.Pump();
    }
}

/// <summary>Sends COUNT chunks of 1 MiB, each its own windowed transfer (its own id), CONCURRENT at once, as a put's pushes do.</summary>
sealed class ChunkPusher : ReceiveActor
{
    private readonly Dictionary<long, WindowedSender> _transfers = new();
    private long _next;
    private int _done;

    public ChunkPusher(IActorRef target, int count, byte[] payload, int window, int concurrent, TaskCompletionSource<bool> done)
    {
        void Start()
        {
            var id = ++_next;
            var source = new ArrayQueueSource();
            for (var i = 0; i < 1024 * 1024 / payload.Length; i++) source.Add(payload);
            source.End();
            var transfer = new WindowedSender(source, payload.Length, window,
                (_, offset, data) => target.Tell(new ChunkPart(id, checked((int)offset), data), Self), TimeSpan.FromSeconds(30));
            _transfers[id] = transfer;
            transfer.Pump();
        }
        Receive<ChunkPartAck>(m =>
        {
            var transfer = _transfers[m.TransferId];
            transfer.AcknowledgeBytes(m.Received);
            transfer.Pump();
            if (!transfer.Complete) return;
            _transfers.Remove(m.TransferId);
            if (++_done == count)
            {
                done.TrySetResult(true);
                Context.Stop(Self);
            }
            else if (_next < count) Start();
        });
        for (var i = 0; i < Math.Min(concurrent, count); i++) Start();
    }
}

/// <summary>Acknowledges every part, as a chunk receiver does.</summary>
sealed class PartSink : ReceiveActor
{
    public PartSink() => Receive<ChunkPart>(m => Sender.Tell(new ChunkPartAck(m.TransferId, m.Offset + m.Data.Length)));
}

/// <summary>Runs a SourceRef it is sent and answers how many bytes came through it.</summary>
sealed class StreamRefSink : ReceiveActor
{
    public StreamRefSink()
    {
        var materializer = Context.System.Materializer();
        Receive<ISourceRef<byte[]>>(m => m.Source.RunAggregate(0L, (sum, bytes) => sum + bytes.Length, materializer).PipeTo(Sender));
    }
}
