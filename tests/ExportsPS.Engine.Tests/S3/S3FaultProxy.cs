using System.Net;
using System.Net.Sockets;

namespace ExportsPS.Engine.Tests.S3;

/// <summary>An HTTP reverse proxy in front of the S3 server that answers chosen requests with an error status
/// instead of forwarding them: one kind of request failing (a HEAD, a manifest's PUT) while the others work,
/// which a connection-level cut (<see cref="TcpProxy"/>) cannot do. Forwards the client's Host header as sent,
/// so signatures still match.</summary>
public sealed class S3FaultProxy : IDisposable
{
    static readonly HashSet<string> HopHeaders = new(StringComparer.OrdinalIgnoreCase)
        { "Host", "Content-Length", "Connection", "Expect", "Transfer-Encoding", "Keep-Alive" };

    readonly string _target;
    readonly HttpListener _listener = new();
    readonly HttpClient _client = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });

    public S3FaultProxy(Uri target)
    {
        _target = target.GetLeftPart(UriPartial.Authority);
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Url = new Uri($"http://127.0.0.1:{port}");
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _ = Task.Run(AcceptLoop);
    }

    public Uri Url { get; }

    /// <summary>The status to answer a request with instead of forwarding it; null forwards it.</summary>
    public Func<HttpListenerRequest, int?>? Fail { get; set; }

    /// <summary>How many requests were answered with an error.</summary>
    public int Failed => _failed;
    int _failed;

    async Task AcceptLoop()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception) { return; }
            _ = Task.Run(() => Handle(context));
        }
    }

    async Task Handle(HttpListenerContext http)
    {
        var (request, response) = (http.Request, http.Response);
        try
        {
            if (Fail?.Invoke(request) is { } status)
            {
                Interlocked.Increment(ref _failed);
                var error = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>ServiceUnavailable</Code><Message>injected</Message></Error>"u8.ToArray();
                response.StatusCode = status;
                response.ContentType = "application/xml";
                if (request.HttpMethod == "HEAD") response.ContentLength64 = 0;
                else
                {
                    response.ContentLength64 = error.Length;
                    await response.OutputStream.WriteAsync(error);
                }
                response.Close();
                return;
            }
            var forward = new HttpRequestMessage(new HttpMethod(request.HttpMethod),
                new Uri(_target + request.RawUrl, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true }));
            // An empty body still carries its signed headers (a POST ?uploads has a Content-Type): only content can hold them.
            if (request.HasEntityBody || request.ContentLength64 > 0 || request.ContentType is not null)
            {
                var body = new MemoryStream();
                await request.InputStream.CopyToAsync(body);
                forward.Content = new ByteArrayContent(body.ToArray());
            }
            forward.Headers.Host = request.Headers["Host"];
            foreach (var name in request.Headers.AllKeys)
            {
                if (name is null || HopHeaders.Contains(name)) continue;
                var value = request.Headers[name];
                if (!forward.Headers.TryAddWithoutValidation(name, value)) forward.Content?.Headers.TryAddWithoutValidation(name, value);
            }
            using var answer = await _client.SendAsync(forward, HttpCompletionOption.ResponseHeadersRead);
            response.StatusCode = (int)answer.StatusCode;
            foreach (var (name, values) in answer.Headers.Concat(answer.Content.Headers))
            {
                if (HopHeaders.Contains(name)) continue;
                if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)) response.ContentType = values.First();
                else response.Headers[name] = string.Join(",", values);
            }
            if (answer.Content.Headers.ContentLength is { } length) response.ContentLength64 = length;
            if (request.HttpMethod != "HEAD") await (await answer.Content.ReadAsStreamAsync()).CopyToAsync(response.OutputStream);
            response.Close();
        }
        catch (Exception)
        {
            response.Abort();
        }
    }

    public void Dispose()
    {
        _listener.Close();
        _client.Dispose();
    }
}
