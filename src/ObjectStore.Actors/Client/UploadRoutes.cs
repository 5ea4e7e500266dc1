using System.Net.Sockets;
using Akka.Actor;
using ObjectStore.Actors.Transfer;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Actors.Client;

/// <summary>
/// The two ways a client sends a put's bytes other than frames, each on a background task whose outcome
/// comes back to the uploader as a message: handing the open file to a node on this machine, or
/// streaming it to the node's data port (TCP's flow control paces it; progress comes as messages).
/// </summary>
internal static class UploadRoutes
{
    public sealed record HandedOver : ILocalMessage;
    public sealed record HandOverRefused(UploadReady Ready) : ILocalMessage;
    public sealed record DataProgress(long Bytes) : ILocalMessage;
    public sealed record DataSent(long Bytes) : ILocalMessage;
    /// <summary>The data port failed; <paramref name="BeforeAnyByte"/> means frames can still carry the whole file.</summary>
    public sealed record DataFailed(string Reason, bool BeforeAnyByte) : ILocalMessage;

    private const int DataWriteSize = 1024 * 1024;
    private static readonly TimeSpan HandOverTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Passes the open file to the node's Unix socket with the put's token; the node answers whether it took it.</summary>
    public static void HandOver(FileStream file, UploadReady ready, IActorRef uploader) =>
        Task.Run<object>(() => FileHandOver.Offer(ready.HandOver, ready.DataToken, file.SafeFileHandle, HandOverTimeout)
            ? new HandedOver()
            : new HandOverRefused(ready)).PipeTo(uploader);

    /// <summary>Streams the file to the node's data port from its current position, then closes the sending side.</summary>
    public static void SendOnDataPort(FileStream file, TcpClient connection, string host, int port, byte[] token, IActorRef uploader) =>
        Task.Run<object>(async () =>
        {
            try
            {
                await DataPlane.OpenAsync(connection, host, port, token);
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
            {
                return new DataFailed(e.Message, BeforeAnyByte: true);
            }
            long sent = 0;
            try
            {
                var stream = connection.GetStream();
                var buffer = new byte[DataWriteSize];
                int read;
                while ((read = await file.ReadAsync(buffer)) > 0)
                {
                    await stream.WriteAsync(buffer.AsMemory(0, read));
                    sent += read;
                    uploader.Tell(new DataProgress(sent));
                }
                connection.Client.Shutdown(SocketShutdown.Send);
                return new DataSent(sent);
            }
            catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
            {
                return new DataFailed(e.Message, BeforeAnyByte: false);
            }
        }).PipeTo(uploader);
}
