using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace ExportsPS.Module.Tests;

/// <summary>A loopback OpenSearch 2.11 with one index, <c>seq</c>, of <see cref="Count"/> generated documents
/// (<c>uuid</c> = "u" + n zero-padded, unique and sortable). It answers what a resumable read sends:
/// PIT create/delete and <c>_search</c> with pit, sort on uuid, search_after, a <c>range gt</c> filter on
/// uuid, slices on uuid and track_total_hits. <see cref="PageDelay"/> makes a run long enough to kill.</summary>
internal sealed class SequenceCluster : IDisposable
{
    readonly HttpListener _listener = new();

    public SequenceCluster(int count)
    {
        Count = count;
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
                catch (Exception) { return; }
                _ = Task.Run(() => Handle(context));
            }
        });
    }

    public int Count { get; }
    public string Url { get; }
    public TimeSpan PageDelay { get; set; }

    public static string Uuid(int n) => "u" + n.ToString("D9");

    static string Document(int n) =>
        $$"""{"@timestamp":"2026-06-01T00:00:00Z","uuid":"{{Uuid(n)}}","n":{{n}},"message":"record {{n}}"}""";

    void Handle(HttpListenerContext http)
    {
        try
        {
            var body = new StreamReader(http.Request.InputStream).ReadToEnd();
            var (status, json) = Route(http.Request.HttpMethod, http.Request.Url!.AbsolutePath, body);
            var bytes = Encoding.UTF8.GetBytes(json);
            http.Response.StatusCode = status;
            http.Response.ContentType = "application/json";
            http.Response.ContentLength64 = bytes.Length;
            http.Response.OutputStream.Write(bytes);
            http.Response.Close();
        }
        catch (Exception) { /* the client went away (killed) */ }
    }

    (int, string) Route(string method, string path, string body)
    {
        switch (method, path)
        {
            case ("GET", "/"):
                return (200, """{"name":"n1","cluster_name":"sequence","version":{"distribution":"opensearch","number":"2.11.1"}}""");
            case ("GET", "/seq/_field_caps"):
                return (200, """{"indices":["seq"],"fields":{"@timestamp":{"date":{"type":"date"}},"uuid":{"keyword":{"type":"keyword"}},"n":{"long":{"type":"long"}},"message":{"text":{"type":"text"}}}}""");
            case ("POST", "/seq/_search/point_in_time"):
                return (200, """{"pit_id":"c2VxdWVuY2U="}""");
            case ("DELETE", "/_search/point_in_time"):
                return (200, """{"pits":[{"successful":true,"pit_id":"c2VxdWVuY2U="}]}""");
            case ("POST", "/_search"):
                return (200, Search(JsonNode.Parse(body)!));
            default:
                return (400, $$"""{"error":{"type":"illegal_argument_exception","reason":"no handler for {{method}} {{path}}"},"status":400}""");
        }
    }

    string Search(JsonNode request)
    {
        if (PageDelay > TimeSpan.Zero) Thread.Sleep(PageDelay);
        var size = request["size"]!.GetValue<int>();
        var gt = request["query"]?["bool"]?["filter"] is JsonArray filters
            ? filters.Select(f => f?["range"]?["uuid"]?["gt"]?.GetValue<string>()).FirstOrDefault(v => v is not null)
            : null;
        var after = request["search_after"] is JsonArray a ? a[0]!.GetValue<string>() : null;
        var (slice, max) = request["slice"] is JsonObject s ? (s["id"]!.GetValue<int>(), s["max"]!.GetValue<int>()) : (0, 1);
        var matching = Enumerable.Range(0, Count)
            .Where(n => n % max == slice)
            .Where(n => gt is null || string.CompareOrdinal(Uuid(n), gt) > 0);
        var total = matching.Count();
        var page = matching.Where(n => after is null || string.CompareOrdinal(Uuid(n), after) > 0).Take(size)
            .Select(n => $$"""{"_index":"seq","_id":"{{n}}","_score":null,"_source":{{Document(n)}},"sort":["{{Uuid(n)}}"]}""");
        var totalJson = request["track_total_hits"]?.GetValue<bool>() == true ? $$"""
            "total":{"value":{{total}},"relation":"eq"},
            """ : "";
        return "{\"pit_id\":\"c2VxdWVuY2U=\",\"timed_out\":false,\"_shards\":{\"total\":1,\"successful\":1,\"failed\":0},\"hits\":{"
               + totalJson + "\"hits\":[" + string.Join(",", page) + "]}}";
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
    }
}
