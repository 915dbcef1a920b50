using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ExportsPS.Engine.Exports;
using ExportsPS.Engine.Runs;
using ExportsPS.Engine.Sample;
using ExportsPS.Engine.Sources;
using ExportsPS.Engine.Sources.OpenSearch;
using ExportsPS.Tests.Shared;

namespace ExportsPS.Engine.Tests.OpenSearch;

/// <summary>The source against a real cluster: EXPORTSPS_TEST_OPENSEARCH_URL (e.g. https://localhost:9200),
/// optional EXPORTSPS_TEST_OPENSEARCH_USER / _PASSWORD and EXPORTSPS_TEST_OPENSEARCH_INSECURE=1 for a
/// self-signed certificate. Loads sample events into a throwaway index, exports them through the
/// source with and without slices, cancels one run part-way and resumes it, compares each with the embedded
/// export, and deletes the index.</summary>
public sealed class LiveOpenSearchTests : IDisposable
{
    const string UrlVariable = "EXPORTSPS_TEST_OPENSEARCH_URL";
    readonly TestHome _home = new(new EngineSettings { HeartbeatInterval = TimeSpan.FromMilliseconds(200), CheckpointInterval = TimeSpan.Zero });
    readonly string _index = "exportsps-live-" + Guid.NewGuid().ToString("N")[..10];

    public void Dispose() => _home.Dispose();

    [LiveFact(UrlVariable)]
    public async Task A_live_cluster_exports_the_same_records_as_the_embedded_index()
    {
        var url = new Uri(Environment.GetEnvironmentVariable(UrlVariable)!);
        var user = Environment.GetEnvironmentVariable("EXPORTSPS_TEST_OPENSEARCH_USER");
        var password = Environment.GetEnvironmentVariable("EXPORTSPS_TEST_OPENSEARCH_PASSWORD");
        var insecure = Environment.GetEnvironmentVariable("EXPORTSPS_TEST_OPENSEARCH_INSECURE") == "1";
        using var http = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = insecure ? (_, _, _, _) => true : null }) { BaseAddress = url };
        if (user is not null)
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

        var documents = SampleDataGenerator.Generate(SampleKind.Events, 3000, 11, TestHome.SampleEnd, TimeSpan.FromDays(7)).Select(d => d.GetRawText()).ToList();
        _home.Load("events", documents.ToArray());
        // The tiebreaker must be a keyword: dynamic mapping would make event.id text, which cannot be sorted on.
        using (var created = await http.PutAsync($"/{_index}", new StringContent(
                   """{"mappings":{"properties":{"@timestamp":{"type":"date"},"event":{"properties":{"id":{"type":"keyword"},"outcome":{"type":"keyword"}}}}}}""",
                   Encoding.UTF8, "application/json")))
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        var bulk = new StringBuilder();
        foreach (var document in documents) bulk.Append("{\"index\":{}}\n").Append(document).Append('\n');
        using (var response = await http.PostAsync($"/{_index}/_bulk?refresh=true", new StringContent(bulk.ToString(), Encoding.UTF8, "application/x-ndjson")))
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, body);
            Assert.False(JsonDocument.Parse(body).RootElement.GetProperty("errors").GetBoolean(), body);
        }
        try
        {
            new OpenSearchSettings
            {
                Name = "live", Urls = [url], PageSize = 500, SkipCertificateCheck = insecure, TiebreakerField = "event.id",
                Auth = user is null ? OpenSearchAuth.None : OpenSearchAuth.Basic, Username = user,
                ProtectedSecret = user is null ? null : _home.Service.Vault.Protect(password ?? ""),
                IndexMap = new Dictionary<string, string> { ["events"] = _index },
            }.Save(_home.Catalog);
            var probe = await _home.Service.Sources.ProbeAsync("live", "events", ["source.*"], CancellationToken.None);
            Assert.True(probe.IndexExists);
            Assert.Equal(3000, probe.DocumentCount);

            var fields = new[] { "@timestamp", "event.id", "event.outcome", "source.ip" };
            Assert.Equal(RunStatus.Completed, _home.Run(new ExportDefinition { Name = "embedded", Query = "event.outcome:failure", Fields = fields }).Status);
            var expected = Lines("embedded");
            foreach (var slices in new[] { 1, 3 })
            {
                var run = _home.Run(new ExportDefinition { Name = $"live-{slices}", Query = "event.outcome:failure", Fields = fields, Source = "live", Slices = slices });
                Assert.True(run.Status == RunStatus.Completed, run.Error);
                var actual = Lines($"live-{slices}");
                Assert.Equal(expected.Count, actual.Distinct().Count());
                Assert.Equal(expected.Select(Normalize).Order(), actual.Select(Normalize).Order());
            }

            // Resume: a run canceled part-way keeps its file; -Resume continues it from a new point in time.
            new OpenSearchSettings
            {
                Name = "live-small-pages", Urls = [url], PageSize = 20, SkipCertificateCheck = insecure, TiebreakerField = "event.id",
                Auth = user is null ? OpenSearchAuth.None : OpenSearchAuth.Basic, Username = user,
                ProtectedSecret = user is null ? null : _home.Service.Vault.Protect(password ?? ""),
                IndexMap = new Dictionary<string, string> { ["events"] = _index },
            }.Save(_home.Catalog);
            _home.Service.Create(new ExportDefinition { Name = "live-resume", Query = "event.outcome:failure", Fields = fields, Source = "live-small-pages", Slices = 2 });
            var handle = _home.Service.Start("live-resume", RunTrigger.Manual);
            SpinWait.SpinUntil(() => handle.Processed >= 60 || handle.Completion.IsCompleted, TimeSpan.FromSeconds(60));
            handle.Cancel();
            var canceled = handle.Completion.GetAwaiter().GetResult();
            Assert.True(canceled.Status == RunStatus.Canceled, $"the run ended {canceled.Status} before it could be canceled");
            Assert.Contains("-Resume", canceled.Error);
            var resumed = _home.Service.Start("live-resume", RunTrigger.Manual, resume: true).Completion.GetAwaiter().GetResult();
            Assert.True(resumed.Status == RunStatus.Completed, resumed.Error);
            var continued = Lines("live-resume");
            Assert.Equal(expected.Count, continued.Distinct().Count());
            Assert.Equal(expected.Select(Normalize).Order(), continued.Select(Normalize).Order());
        }
        finally
        {
            await http.DeleteAsync($"/{_index}");
        }
    }

    List<string> Lines(string export) => File.ReadAllLines(Path.Combine(_home.Home.ExportsFolder, export, export + ".jsonl")).ToList();

    /// <summary>Key order inside _source may differ between the two sources; compare canonical JSON.</summary>
    static string Normalize(string line) => JsonSerializer.Serialize(JsonSerializer.Deserialize<SortedDictionary<string, JsonElement>>(line));
}
