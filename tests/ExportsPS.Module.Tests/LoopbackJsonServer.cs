using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ExportsPS.Module.Tests;

/// <summary>An HTTP server on a free loopback port that answers every request with JSON from
/// <see cref="Route"/>: the base of the OpenSearch stand-ins the module tests run cmdlets against.</summary>
internal abstract class LoopbackJsonServer : IDisposable
{
    readonly HttpListener _listener = new();

    protected LoopbackJsonServer()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Url = $"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}/";
        probe.Stop();
        _listener.Prefixes.Add(Url);
        _listener.Start();
        Task.Run(async () =>
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try { context = await _listener.GetContextAsync(); }
                catch (Exception) { return; } // stopped
                _ = Task.Run(() => Answer(context));
            }
        });
    }

    public string Url { get; }

    /// <summary>Status and JSON body for one request.</summary>
    protected abstract (int Status, string Json) Route(HttpListenerRequest request, string body);

    void Answer(HttpListenerContext http)
    {
        try
        {
            var body = new StreamReader(http.Request.InputStream).ReadToEnd();
            var (status, json) = Route(http.Request, body);
            var bytes = Encoding.UTF8.GetBytes(json);
            http.Response.StatusCode = status;
            http.Response.ContentType = "application/json";
            http.Response.ContentLength64 = bytes.Length;
            http.Response.OutputStream.Write(bytes);
            http.Response.Close();
        }
        catch (Exception) { /* the client went away (a killed process, a canceled run) */ }
    }

    public virtual void Dispose()
    {
        _listener.Stop();
        _listener.Close();
    }
}
