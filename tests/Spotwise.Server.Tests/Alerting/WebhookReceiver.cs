using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Spotwise.Server.Tests.Alerting;

/// <summary>One POST as the receiver got it.</summary>
public sealed record ReceivedWebhook(string? Signature, string? Timestamp, string? Delivery, string ContentType, byte[] Body)
{
    public string Text => System.Text.Encoding.UTF8.GetString(Body);
}

/// <summary>
/// A webhook receiver on loopback (HttpListener on 127.0.0.1), as a Slack incoming webhook or a team's own endpoint would
/// take the POSTs: it answers each with the next scripted status (200 once the script is used up) and hands the requests
/// to the test in order.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<HttpStatusCode> _script;
    private readonly Channel<ReceivedWebhook> _received = Channel.CreateUnbounded<ReceivedWebhook>();
    private readonly Task _serving;

    public WebhookReceiver(params HttpStatusCode[] script)
    {
        _script = new ConcurrentQueue<HttpStatusCode>(script);
        Url = $"http://127.0.0.1:{FreePort()}/hook/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _serving = ServeAsync();
    }

    public string Url { get; }

    /// <summary>The next request, waiting at most <paramref name="timeout"/> (null when none came).</summary>
    public async Task<ReceivedWebhook?> NextAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            return await _received.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    public bool TryTake(out ReceivedWebhook? received) => _received.Reader.TryRead(out received);

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
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            var request = context.Request;
            _received.Writer.TryWrite(new ReceivedWebhook(request.Headers["X-Spotwise-Signature"], request.Headers["X-Spotwise-Timestamp"],
                request.Headers["X-Spotwise-Delivery"], request.ContentType ?? "", body.ToArray()));
            context.Response.StatusCode = (int)(_script.TryDequeue(out var status) ? status : HttpStatusCode.OK);
            context.Response.Close();
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _serving.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }
}
