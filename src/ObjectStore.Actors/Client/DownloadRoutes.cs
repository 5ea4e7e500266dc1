using System.Net.Sockets;
using Akka.Actor;
using ObjectStore.Actors.Transfer;

namespace ObjectStore.Actors.Client;

/// <summary>
/// A get's bytes from the node's data port, read on a background task that alone uses the download target
/// until it reports how it ended (as a message to the downloader).
/// </summary>
internal static class DownloadRoutes
{
    public sealed record DataProgress(long Bytes) : ILocalMessage;
    public sealed record DataReceived(long Bytes) : ILocalMessage;
    /// <summary>The data port failed; <paramref name="BeforeAnyByte"/> means frames can still carry the whole object.</summary>
    public sealed record DataFailed(string Reason, bool BeforeAnyByte) : ILocalMessage;
    /// <summary>The temp file could not be written (a full disk, say): the node is not to blame.</summary>
    public sealed record LocalWriteFailed(string Reason) : ILocalMessage;

    private const int ReadSize = 1024 * 1024;
    private static readonly TimeSpan HandOverTimeout = TimeSpan.FromSeconds(10);

    public sealed record HandedOver : ILocalMessage;
    public sealed record HandOverRefused(Protocol.StoreProtocol.DownloadReady Ready) : ILocalMessage;

    /// <summary>Passes the temp file to the node's Unix socket with the get's token; the node answers whether it took it.</summary>
    /// <returns>The hand-over: the target's handle is in use until it ends.</returns>
    public static Task HandOver(DownloadTarget target, Protocol.StoreProtocol.DownloadReady ready, IActorRef downloader)
    {
        var offer = Task.Run<object>(() => FileHandOver.Offer(ready.HandOver, ready.DataToken, target.HandleForNode, HandOverTimeout)
            ? new HandedOver()
            : new HandOverRefused(ready));
        offer.PipeTo(downloader);
        return offer;
    }

    public static Task<object> ReceiveFromDataPort(DownloadTarget target, TcpClient connection, string host, int port, byte[] token, long size,
        IActorRef downloader) =>
        Task.Run<object>(async () =>
        {
            try
            {
                await DataPlane.OpenAsync(connection, host, port, token);
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or ObjectDisposedException)
            {
                return new DataFailed(e.Message, BeforeAnyByte: true);
            }
            long received = 0;
            try
            {
                var stream = connection.GetStream();
                var buffer = new byte[ReadSize];
                int read;
                while ((read = await stream.ReadAsync(buffer)) > 0)
                {
                    received += read;
                    if (received > size) return new DataFailed($"the node sent more than the object's {size} bytes", BeforeAnyByte: false);
                    try
                    {
                        target.Write(buffer.AsSpan(0, read));
                    }
                    catch (IOException e)
                    {
                        return new LocalWriteFailed(e.Message);
                    }
                    downloader.Tell(new DataProgress(received));
                }
                return new DataReceived(received);
            }
            catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
            {
                return new DataFailed(e.Message, BeforeAnyByte: false);
            }
        });
}
