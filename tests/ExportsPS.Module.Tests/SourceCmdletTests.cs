using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace ExportsPS.Module.Tests;

/// <summary>The source cmdlets end to end in a hosted runspace against a small OpenSearch-speaking server on
/// loopback (the engine's own tests compare the source with the embedded index record for record; this
/// suite proves the cmdlets: registration, secrets, probe, -Source, -Slices, patterns, refusals).</summary>
public sealed class SourceCmdletTests : IDisposable
{
    readonly PowerShellSession _ps = new();
    readonly CannedCluster _cluster = new();

    public void Dispose()
    {
        _cluster.Dispose();
        _ps.Dispose();
    }

    const string Password = "Tr0ub4dor&3-horse";

    string RegisterScript(string extra = "") =>
        $"$cred = [pscredential]::new('reader', ([System.Net.NetworkCredential]::new('', '{Password}').SecurePassword)); " +
        $"Register-ExportSource -Name prod -Uri '{_cluster.Url}' -Credential $cred -PageSize 2 -IndexMap @{{ events = 'logs' }} {extra}";

    [Fact]
    public void A_registered_source_is_listed_without_its_secret_probed_and_exported_from()
    {
        var registered = _ps.Run(RegisterScript() + " -Verbose");
        Assert.Null(registered.Terminating);
        Assert.Empty(registered.Errors);
        var info = registered.Output.Single();
        Assert.Equal(("prod", "OpenSearch", "Basic"), ((string)info.Properties["Name"].Value, (string)info.Properties["Kind"].Value, (string)info.Properties["Authentication"].Value));

        var listed = _ps.Ok("Get-ExportSource | ForEach-Object Name").Select(o => o.ToString()).ToList();
        Assert.Equal(["embedded", "prod"], listed);

        var probe = _ps.Ok("Test-ExportSource prod -Index events -Field '@timestamp','source.*'").Single();
        Assert.Equal("3.3.0", probe.Properties["Version"].Value);
        Assert.Equal("logs", probe.Properties["ResolvedIndex"].Value);
        Assert.Equal(new[] { "@timestamp", "source.ip", "source.port" }, (string[])probe.Properties["Field"].Value);

        var run = _ps.Ok("New-Export prod-csv -Query 'event.outcome:failure' -Source prod -Field '@timestamp','source.*' -Format csv -Slices 1").Single();
        Assert.Equal("Completed", run.Properties["Status"].Value.ToString());
        Assert.Equal(3L, run.Properties["Records"].Value);
        var rows = _ps.Ok("Receive-ExportFile prod-csv -AsObject | ForEach-Object { $_.'source.ip' }").Select(o => o.ToString()).ToList();
        Assert.Equal(["10.0.0.1", "10.0.0.2", "10.0.0.3"], rows);
        Assert.Equal(["@timestamp", "source.ip", "source.port"], _ps.Ok("(Get-Export prod-csv).Field").Select(o => o.ToString()));
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("reader:" + Password)), _cluster.LastAuthorization);
        Assert.Equal(0, _cluster.OpenPits);

        // The secret is nowhere: not in output, not in the catalog file, not in the registration's JSON.
        var everything = string.Join("\n", _ps.Ok("Get-ExportSource prod | ForEach-Object { $_.PSObject.Properties | ForEach-Object { \"$($_.Name)=$($_.Value)\" } }").Select(o => o.ToString()));
        Assert.Contains("UserName=reader", everything);
        Assert.DoesNotContain(Password, everything);
        foreach (var file in Directory.EnumerateFiles(_ps.Home, "*", SearchOption.AllDirectories))
        {
            var text = Encoding.UTF8.GetString(File.ReadAllBytes(file));
            Assert.DoesNotContain(Password, text);
            Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes("reader:" + Password)), text);
        }
    }

    [Fact]
    public void Bad_registrations_and_unregistering_a_used_source_are_refused_with_clear_errors()
    {
        var embeddedInUrl = _ps.Run("Register-ExportSource bad -Uri 'http://user:pw@127.0.0.1:9200/'");
        Assert.Contains("-Credential", embeddedInUrl.Errors.Single().ToString());
        var badKeepAlive = _ps.Run($"Register-ExportSource bad -Uri '{_cluster.Url}' -KeepAlive 'five minutes'");
        Assert.Contains("-KeepAlive", badKeepAlive.Errors.Single().ToString());
        Assert.Equal("InvalidOption,ExportsPS.Commands.RegisterExportSourceCommand", badKeepAlive.ErrorId);
        Assert.Equal(["embedded"], _ps.Ok("Get-ExportSource | ForEach-Object Name").Select(o => o.ToString()));

        _ps.Ok(RegisterScript());
        var duplicate = _ps.Run(RegisterScript());
        Assert.Equal("DuplicateName,ExportsPS.Commands.RegisterExportSourceCommand", duplicate.ErrorId);
        _ps.Ok(RegisterScript("-Force -KeepAlive 10m"));
        Assert.Equal("10m", _ps.Ok("(Get-ExportSource prod).KeepAlive").Single().ToString());

        _ps.Ok("New-Export uses-prod -Query '*' -Source prod -NoRun | Out-Null");
        var refused = _ps.Run("Unregister-ExportSource prod -Confirm:$false");
        Assert.Contains("uses-prod", refused.Errors.Single().ToString());
        _ps.Ok("Unregister-ExportSource prod -WhatIf");
        _ps.Ok("Remove-Export uses-prod -Confirm:$false; Unregister-ExportSource prod -Confirm:$false");
        Assert.Equal(["embedded"], _ps.Ok("Get-ExportSource | ForEach-Object Name").Select(o => o.ToString()));

        var unknownSource = _ps.Run("New-Export x -Query '*' -Source nosuch");
        Assert.Contains("Register-ExportSource", unknownSource.Errors.Single().ToString());
    }

    [Fact]
    public void A_piped_source_registers_a_copy_with_all_its_settings()
    {
        _ps.Ok(RegisterScript("-TimeoutSec 17 -KeepAlive 7m -TiebreakerField uuid -ReadMode Scroll -MaxRetries 3"));
        var copy = _ps.Ok("Get-ExportSource prod | Register-ExportSource -Name copy -Credential $cred").Single();
        string Settings(string name) => string.Join(";", _ps.Ok($"Get-ExportSource {name} | ForEach-Object {{ $_.Uri; $_.Authentication; $_.UserName; $_.Timeout; $_.PageSize; $_.KeepAlive; $_.TiebreakerField; $_.ReadMode; $_.MaxRetries; $_.IndexMap['events'] }}").Select(o => o.ToString()));
        Assert.Equal("copy", copy.Properties["Name"].Value);
        Assert.Equal(TimeSpan.FromSeconds(17), copy.Properties["Timeout"].Value);
        Assert.Equal(Settings("prod"), Settings("copy"));

        var fraction = _ps.Run($"Register-ExportSource odd -Uri '{_cluster.Url}' -TimeoutSec ([timespan]'00:00:01.5')");
        Assert.Contains("whole number of seconds", fraction.Errors.Single().ToString());
        Assert.Equal(["copy", "embedded", "prod"], _ps.Ok("Get-ExportSource | ForEach-Object Name").Select(o => o.ToString()).Order());
    }

    [Fact]
    public void A_wrong_password_gives_an_authentication_error_without_the_password()
    {
        _cluster.RequiredAuthorization = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("reader:right-one"));
        _ps.Ok(RegisterScript());
        var result = _ps.Run("New-Export denied -Query '*' -Source prod");
        Assert.Equal("SourceAuthenticationFailed,ExportsPS.Commands.NewExportCommand", result.ErrorId);
        Assert.DoesNotContain(Password, result.Errors.Single().ToString());
    }

    /// <summary>Three fixed documents in index "logs", paged by size and search_after on _shard_doc.</summary>
    internal sealed class CannedCluster : LoopbackJsonServer
    {
        static readonly string[] Documents =
        [
            """{"@timestamp":"2026-06-01T00:00:00Z","event":{"outcome":"failure"},"source":{"ip":"10.0.0.1","port":1001},"message":"a"}""",
            """{"@timestamp":"2026-06-01T00:01:00Z","event":{"outcome":"failure"},"source":{"ip":"10.0.0.2","port":1002},"message":"b"}""",
            """{"@timestamp":"2026-06-01T00:02:00Z","event":{"outcome":"failure"},"source":{"ip":"10.0.0.3","port":1003},"message":"c"}""",
        ];

        int _openPits;

        public string? RequiredAuthorization { get; set; }
        public string? LastAuthorization { get; private set; }
        public int OpenPits => Volatile.Read(ref _openPits);

        protected override (int Status, string Json) Route(HttpListenerRequest request, string body)
        {
            LastAuthorization = request.Headers["Authorization"];
            return RequiredAuthorization is not null && LastAuthorization != RequiredAuthorization
                ? (401, """{"error":{"type":"security_exception","reason":"unauthorized"},"status":401}""")
                : Route(request.HttpMethod, request.Url!.AbsolutePath, body);
        }

        (int, string) Route(string method, string path, string body)
        {
            switch (method, path)
            {
                case ("GET", "/"):
                    return (200, """{"name":"n1","cluster_name":"canned","version":{"distribution":"opensearch","number":"3.3.0"}}""");
                case ("GET", "/logs/_field_caps"):
                    return (200, """{"indices":["logs"],"fields":{"@timestamp":{"date":{"type":"date"}},"event.outcome":{"keyword":{"type":"keyword"}},"source.ip":{"ip":{"type":"ip"}},"source.port":{"long":{"type":"long"}},"message":{"text":{"type":"text"}},"message.keyword":{"keyword":{"type":"keyword"}},"source":{"object":{"type":"object"}}}}""");
                case ("POST", "/logs/_validate/query"):
                    return (200, """{"valid":true}""");
                case ("GET", "/logs/_count"):
                    return (200, $$"""{"count":{{Documents.Length}}}""");
                case ("GET", "/logs/_settings"):
                    return (200, """{"logs":{"settings":{},"defaults":{"index.max_result_window":"10000"}}}""");
                case ("POST", "/logs/_search/point_in_time"):
                    Interlocked.Increment(ref _openPits);
                    return (200, """{"pit_id":"cGl0LTE="}""");
                case ("DELETE", "/_search/point_in_time"):
                    Interlocked.Decrement(ref _openPits);
                    return (200, """{"pits":[{"successful":true,"pit_id":"cGl0LTE="}]}""");
                case ("POST", "/_search"):
                    var request = JsonNode.Parse(body)!;
                    var size = request["size"]!.GetValue<int>();
                    var after = request["search_after"] is JsonArray a ? a[0]!.GetValue<int>() : -1;
                    var hits = Enumerable.Range(after + 1, Math.Max(0, Math.Min(size, Documents.Length - after - 1)))
                        .Select(i => $$"""{"_index":"logs","_id":"{{i}}","_score":null,"_source":{{Documents[i]}},"sort":[{{i}}]}""");
                    var total = request["track_total_hits"]?.GetValue<bool>() == true
                        ? "\"total\":{\"value\":" + Documents.Length + ",\"relation\":\"eq\"},"
                        : "";
                    return (200, "{\"pit_id\":\"cGl0LTE=\",\"timed_out\":false,\"_shards\":{\"total\":1,\"successful\":1,\"failed\":0},\"hits\":{"
                                 + total + "\"hits\":[" + string.Join(",", hits) + "]}}");
                default:
                    return (400, $$"""{"error":{"type":"illegal_argument_exception","reason":"no handler for {{method}} {{path}}"},"status":400}""");
            }
        }

    }
}
