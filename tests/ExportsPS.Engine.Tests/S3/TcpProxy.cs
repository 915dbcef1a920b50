using System.Net;
using System.Net.Sockets;

namespace ExportsPS.Engine.Tests.S3;

/// <summary>A TCP forwarder in front of the S3 server that can be cut (every connection reset, nothing
/// listening) and restored on the same port: the S3 server "stopping" mid-upload without stopping it for
/// the other tests that share it.</summary>
public sealed class TcpProxy : IDisposable
{
    readonly IPEndPoint _target;
    readonly List<TcpClient> _connections = new();
    TcpListener? _listener;

    public TcpProxy(Uri target)
    {
        _target = new IPEndPoint(IPAddress.Parse(target.Host), target.Port);
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Start();
    }

    public int Port { get; }
    public Uri Url => new($"http://127.0.0.1:{Port}");

    public void Start()
    {
        var listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        _listener = listener;
        _ = Task.Run(async () =>
        {
            while (true)
            {
                TcpClient client;
                try { client = await listener.AcceptTcpClientAsync(); }
                catch (Exception) { return; }
                var upstream = new TcpClient();
                try { await upstream.ConnectAsync(_target); }
                catch (SocketException) { client.Dispose(); continue; }
                lock (_connections) { _connections.Add(client); _connections.Add(upstream); }
                _ = Pump(client.GetStream(), upstream.GetStream());
                _ = Pump(upstream.GetStream(), client.GetStream());
            }
        });
    }

    static async Task Pump(Stream from, Stream to)
    {
        try { await from.CopyToAsync(to); }
        catch (Exception) { /* cut */ }
    }

    /// <summary>Resets every connection and stops listening, as a server that went away.</summary>
    public void Cut()
    {
        _listener?.Stop();
        lock (_connections)
        {
            foreach (var connection in _connections)
            {
                try { connection.Client.LingerState = new LingerOption(true, 0); } catch (Exception) { }
                connection.Dispose();
            }
            _connections.Clear();
        }
    }

    public void Dispose() => Cut();
}
