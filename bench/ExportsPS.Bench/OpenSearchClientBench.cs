using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ExportsPS.Engine.Sample;
using ExportsPS.Engine.Sources;
using ExportsPS.Engine.Sources.OpenSearch;

namespace ExportsPS.Bench;

/// <summary>The OpenSearch client's own cost: a loopback server answers every search with the same canned
/// page of real ECS events (prebuilt bytes, keep-alive), so what is measured is request writing, response
/// reading and hit parsing into the run's queue — hits per second and per CPU-second, and slice scaling.</summary>
static class OpenSearchClientBench
{
    const int PageSize = 5000;

    public static void Run(int pages)
    {
        var hits = SampleDataGenerator.Generate(SampleKind.Events, PageSize, 7, DateTimeOffset.UtcNow, TimeSpan.FromDays(1))
            .Select((doc, i) => $$"""{"_index":"events","_id":"{{i}}","_score":null,"_source":{{doc.GetRawText()}},"sort":[{{i}}]}""")
            .ToList();
        var page = Encoding.UTF8.GetBytes(
            $$$"""{"pit_id":"cGl0","took":3,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},"hits":{"total":{"value":{{{(long)pages * PageSize}}},"relation":"eq"},"max_score":null,"hits":[{{{string.Join(",", hits)}}}]}}""");
        var empty = Encoding.UTF8.GetBytes("""{"pit_id":"cGl0","timed_out":false,"_shards":{"total":1,"successful":1,"failed":0},"hits":{"hits":[]}}""");
        Console.WriteLine();
        Console.WriteLine($"OpenSearch client: canned pages of {PageSize:N0} ECS hits ({page.Length / 1e6:N1} MB each) over loopback, {Environment.ProcessorCount} cores");
        Console.WriteLine($"{"slices",6} {"hits",12} {"seconds",8} {"hits/s",12} {"hits/CPU-s",12} {"MB/s in",8}");
        double? single = null;
        foreach (var slices in new[] { 1, 2, 4 })
        {
            using var server = new CannedServer(page, empty, pages);
            var settings = new OpenSearchSettings { Name = "bench", Urls = [server.Url], PageSize = PageSize, MaxRetries = 0 };
            using var source = new OpenSearchSource(settings, null);
            var query = new SourceQuery("events", "*", Array.Empty<string>(), "@timestamp", null, null, slices);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            long received = 0;
            var session = source.OpenAsync(query, CancellationToken.None).GetAwaiter().GetResult();
            using (var queue = new RecordBatchQueue(8, CancellationToken.None))
            {
                var reading = Task.Run(async () =>
                {
                    try { await session.ReadAsync(queue, CancellationToken.None); }
                    finally { queue.CompleteAdding(); }
                });
                foreach (var batch in queue.Consume())
                {
                    received += batch.Count;
                    queue.Return(batch);
                }
                reading.GetAwaiter().GetResult();
            }
            session.DisposeAsync().AsTask().GetAwaiter().GetResult();
            var seconds = watch.Elapsed.TotalSeconds;
            var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
            single ??= received / seconds;
            Console.WriteLine($"{slices,6} {received,12:N0} {seconds,8:N2} {received / seconds,12:N0} {received / cpuSeconds,12:N0} {server.BytesServed / 1e6 / seconds,8:N0}" +
                              (slices > 1 ? $"   ({received / seconds / single.Value:N2}x of 1 slice)" : ""));
        }
        Console.WriteLine("hits/CPU-s counts the whole process (client and the canned server's socket writes): the client alone is faster. Target >= 150,000 hits/s per core.");
    }

    /// <summary>Answers GET / with a version, PIT create/delete with ids, and every _search with the canned
    /// page until <c>pages</c> pages were served, then with empty pages.</summary>
    sealed class CannedServer : IDisposable
    {
        readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        readonly byte[] _page;
        readonly byte[] _empty;
        int _remaining;
        long _bytes;

        public CannedServer(byte[] page, byte[] empty, int pages)
        {
            _page = page;
            _empty = empty;
            _remaining = pages;
            _listener.Start();
            Url = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
            _ = Task.Run(Accept);
        }

        public Uri Url { get; }
        public long BytesServed => Interlocked.Read(ref _bytes);

        async Task Accept()
        {
            while (true)
            {
                TcpClient client;
                try { client = await _listener.AcceptTcpClientAsync(); }
                catch (Exception) { return; }
                _ = Task.Run(() => Serve(client));
            }
        }

        async Task Serve(TcpClient client)
        {
            using var _ = client;
            var stream = client.GetStream();
            var reader = new StreamReader(stream, Encoding.ASCII);
            try
            {
                while (await reader.ReadLineAsync() is { } requestLine)
                {
                    var length = 0;
                    string? header;
                    while (!string.IsNullOrEmpty(header = await reader.ReadLineAsync()))
                        if (header.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                            length = int.Parse(header[15..].Trim(), CultureInfo.InvariantCulture);
                    var body = new char[length];
                    for (var read = 0; read < length;) read += await reader.ReadAsync(body, read, length - read);
                    var path = requestLine.Split(' ')[1];
                    var response = path switch
                    {
                        "/" => """{"version":{"distribution":"opensearch","number":"3.3.0"},"cluster_name":"canned"}"""u8.ToArray(),
                        _ when path.Contains("point_in_time") => """{"pit_id":"cGl0"}"""u8.ToArray(),
                        _ => Interlocked.Decrement(ref _remaining) >= 0 ? _page : _empty,
                    };
                    var head = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {response.Length}\r\n\r\n");
                    await stream.WriteAsync(head);
                    await stream.WriteAsync(response);
                    Interlocked.Add(ref _bytes, response.Length);
                }
            }
            catch (IOException) { }
        }

        public void Dispose() => _listener.Stop();
    }
}
