using System.Net;
using System.Text.Json.Nodes;

namespace ExportsPS.Module.Tests;

/// <summary>A loopback OpenSearch 2.11 with one index, <c>seq</c>, of <see cref="Count"/> generated documents
/// (<c>uuid</c> = "u" + n zero-padded, unique and sortable). It answers what a resumable read sends:
/// PIT create/delete and <c>_search</c> with pit, sort on uuid, search_after, a <c>range gt</c> filter on
/// uuid, slices on uuid and track_total_hits. <see cref="PageDelay"/> makes a run long enough to kill.</summary>
internal sealed class SequenceCluster : LoopbackJsonServer
{
    public SequenceCluster(int count) => Count = count;

    public int Count { get; }
    public TimeSpan PageDelay { get; set; }

    public static string Uuid(int n) => "u" + n.ToString("D9");

    static string Document(int n) =>
        $$"""{"@timestamp":"2026-06-01T00:00:00Z","uuid":"{{Uuid(n)}}","n":{{n}},"message":"record {{n}}"}""";

    protected override (int Status, string Json) Route(HttpListenerRequest request, string body) =>
        Route(request.HttpMethod, request.Url!.AbsolutePath, body);

    (int, string) Route(string method, string path, string body)
    {
        switch (method, path)
        {
            case ("GET", "/"):
                return (200, """{"name":"n1","cluster_name":"sequence","version":{"distribution":"opensearch","number":"2.11.1"}}""");
            case ("GET", "/seq/_field_caps"):
                return (200, """{"indices":["seq"],"fields":{"@timestamp":{"date":{"type":"date"}},"uuid":{"keyword":{"type":"keyword"}},"n":{"long":{"type":"long"}},"message":{"text":{"type":"text"}}}}""");
            case ("GET", "/seq/_settings"):
                return (200, """{"seq":{"settings":{"index":{"number_of_shards":"1"}}}}""");
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
}
