using System.Net;
using System.Text;
using Akka.Actor;
using Microsoft.Extensions.Logging;
using ObjectStore.Actors;
using ObjectStore.Actors.Coordination;
using Prometheus;
using static ObjectStore.Actors.Protocol.StoreProtocol;

namespace ObjectStore.Node;

/// <summary>
/// `objectstore.metrics.port` (off by default): GET /metrics is the Prometheus text format of the meter
/// "ObjectStore" and the runtime's own (prometheus-net exports them), /alive answers while the process
/// serves, /ready only while the node is Up in its cluster and its storage answers — for load balancers
/// and orchestrators. HttpListener, because three plain GET paths do not need a web framework.
/// </summary>
public sealed class MetricsEndpoint : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ActorSystem _system;
    private readonly IActorRef _coordinator;

    private MetricsEndpoint(ActorSystem system, IActorRef coordinator) => (_system, _coordinator) = (system, coordinator);

    public static MetricsEndpoint Start(ActorSystem system, IActorRef coordinator, string host, int port)
    {
        // prometheus-net starts listening to System.Diagnostics.Metrics at its first export
        // (prometheus-net/prometheus-net#487): export once now, or what the node measures before the first
        // scrape would be lost.
        Metrics.DefaultRegistry.CollectAndExportAsTextAsync(Stream.Null).GetAwaiter().GetResult();
        var endpoint = new MetricsEndpoint(system, coordinator);
        endpoint._listener.Prefixes.Add($"http://{host}:{port}/");
        endpoint._listener.Start();
        system.RegisterOnTermination(endpoint.Dispose);
        _ = endpoint.ServeAsync();
        return endpoint;
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            _ = AnswerAsync(context);
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            if (context.Request.HttpMethod != "GET") await Text(response, 405, "only GET");
            else switch (context.Request.Url?.AbsolutePath)
            {
                case "/metrics":
                    response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                    await Metrics.DefaultRegistry.CollectAndExportAsTextAsync(response.OutputStream);
                    break;
                case "/alive":
                    await Text(response, 200, "alive");
                    break;
                case "/ready":
                    var notReady = await NotReadyAsync();
                    await Text(response, notReady is null ? 200 : 503, notReady ?? "ready");
                    break;
                default:
                    await Text(response, 404, "try /metrics, /alive or /ready");
                    break;
            }
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The client went away.
        }
        finally
        {
            try { response.Close(); } catch (ObjectDisposedException) { }
        }
    }

    /// <summary>Null when ready; else why not.</summary>
    private async Task<string?> NotReadyAsync()
    {
        if (ClusterJoin.NotJoinedNotice(_system) is { } notice) return notice;
        try
        {
            var status = await _coordinator.Ask<object>(GetNodeStatus.Instance, TimeSpan.FromSeconds(2));
            return status is NodeStatus { Objects: >= 0 } ? null : "the node's storage did not answer";
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
        {
            return "the node's storage did not answer within 2s";
        }
    }

    private static async Task Text(HttpListenerResponse response, int status, string text)
    {
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=utf-8";
        var bytes = Encoding.UTF8.GetBytes(text + "\n");
        await response.OutputStream.WriteAsync(bytes);
    }

    public void Dispose()
    {
        try { _listener.Close(); } catch (ObjectDisposedException) { }
    }
}
