using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace ExportsPS.Engine.Sample;

public enum SampleKind { Events, Attributes }

/// <summary>Realistic, deterministic sample data (same seed → same documents) for the demo, tests,
/// benchmarks and users' runbook tests:
/// <list type="bullet">
/// <item><c>events</c>: ECS security events (~550 bytes): authentication, network, process and file
/// activity with source/destination, user, host, tags and a message.</item>
/// <item><c>attributes</c>: MISP attributes with type, category, value, to_ids, tags, event_uuid,
/// first_seen/last_seen, spread over a few hundred source events.</item>
/// </list></summary>
public static class SampleDataGenerator
{
    public static readonly IReadOnlyList<string> EventColumns =
    [
        "@timestamp", "event.category", "event.action", "event.outcome", "host.name", "user.name",
        "source.ip", "source.port", "destination.ip", "destination.port", "network.transport", "network.bytes", "tags", "message",
    ];

    public static readonly IReadOnlyList<string> AttributeColumns =
    [
        "uuid", "event_uuid", "type", "category", "value", "to_ids", "first_seen", "last_seen", "tags", "comment",
    ];

    public static IReadOnlyList<string> ColumnsOf(SampleKind kind) => kind == SampleKind.Events ? EventColumns : AttributeColumns;

    public static string DefaultIndexOf(SampleKind kind) => kind == SampleKind.Events ? "events" : "attributes";

    /// <summary>Documents spread evenly over the <paramref name="span"/> ending at <paramref name="end"/>.</summary>
    public static IEnumerable<JsonElement> Generate(SampleKind kind, long count, int seed, DateTimeOffset end, TimeSpan span)
    {
        var random = new Random(seed);
        var buffer = new ArrayBufferWriter<byte>(1024);
        using var writer = new Utf8JsonWriter(buffer);
        var step = count > 1 ? span.Ticks / count : 0;
        var start = end - span;
        for (long i = 0; i < count; i++)
        {
            buffer.ResetWrittenCount();
            writer.Reset(buffer);
            var at = start.AddTicks(step * i + (step > 0 ? random.NextInt64(step) : 0));
            if (kind == SampleKind.Events) WriteEvent(writer, random, i, at);
            else WriteAttribute(writer, random, i, at, seed);
            writer.Flush();
            using var document = JsonDocument.Parse(buffer.WrittenMemory);
            yield return document.RootElement.Clone();
        }
    }

    static readonly (string Category, string Action, string Process, int Port, string Transport)[] Activities =
    [
        ("authentication", "user-login", "sshd", 22, "tcp"),
        ("authentication", "user-logout", "sshd", 22, "tcp"),
        ("authentication", "logon-failed", "sshd", 22, "tcp"),
        ("network", "connection-accepted", "nginx", 443, "tcp"),
        ("network", "connection-denied", "iptables", 3389, "tcp"),
        ("network", "dns-query", "systemd-resolved", 53, "udp"),
        ("process", "process-started", "powershell.exe", 0, "tcp"),
        ("file", "file-created", "explorer.exe", 445, "tcp"),
        ("malware", "malware-detected", "defender", 0, "tcp"),
    ];

    static readonly string[] Users = ["alice", "bob", "carol", "dave", "eve", "mallory", "svc-backup", "admin", "root", "jenkins"];
    static readonly string[] Hosts = ["web-01", "web-02", "web-03", "db-01", "dc-01", "vpn-01", "build-07", "laptop-113", "laptop-207", "fw-edge"];
    static readonly string[] Countries = ["DE", "US", "FR", "NL", "GB", "CN", "RU", "BR", "IN", "JP"];
    static readonly string[] Tags = ["prod", "staging", "dmz", "pci", "critical", "vpn", "ssh", "windows", "linux", "edge"];

    static void WriteEvent(Utf8JsonWriter w, Random r, long i, DateTimeOffset at)
    {
        var activity = Activities[r.Next(Activities.Length)];
        var user = Users[r.Next(Users.Length)];
        var host = Hosts[r.Next(Hosts.Length)];
        var sourceIp = r.Next(4) == 0
            ? $"203.0.113.{r.Next(1, 255)}"
            : $"10.{r.Next(0, 8)}.{r.Next(0, 256)}.{r.Next(1, 255)}";
        var destinationIp = $"192.168.{r.Next(0, 4)}.{r.Next(1, 255)}";
        var sourcePort = r.Next(1024, 65535);
        var failed = activity.Action is "logon-failed" or "connection-denied" || r.Next(10) == 0;
        w.WriteStartObject();
        w.WriteString("@timestamp", at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        w.WriteStartObject("event");
        w.WriteString("id", $"evt-{i:D10}");
        w.WriteString("kind", "event");
        w.WriteString("category", activity.Category);
        w.WriteString("action", activity.Action);
        w.WriteString("outcome", failed ? "failure" : "success");
        w.WriteString("dataset", activity.Category + ".log");
        w.WriteNumber("severity", failed ? r.Next(4, 8) : r.Next(1, 4));
        w.WriteEndObject();
        w.WriteStartObject("host");
        w.WriteString("name", host);
        w.WriteString("os", host.StartsWith("laptop", StringComparison.Ordinal) || host.StartsWith("dc", StringComparison.Ordinal) ? "windows" : "linux");
        w.WriteEndObject();
        w.WriteStartObject("source");
        w.WriteString("ip", sourceIp);
        w.WriteNumber("port", sourcePort);
        w.WriteString("country", Countries[r.Next(Countries.Length)]);
        w.WriteEndObject();
        w.WriteStartObject("destination");
        w.WriteString("ip", destinationIp);
        w.WriteNumber("port", activity.Port);
        w.WriteEndObject();
        w.WriteStartObject("user");
        w.WriteString("name", user);
        w.WriteString("domain", "corp");
        w.WriteEndObject();
        w.WriteStartObject("process");
        w.WriteString("name", activity.Process);
        w.WriteNumber("pid", r.Next(100, 65000));
        w.WriteEndObject();
        w.WriteStartObject("network");
        w.WriteString("transport", activity.Transport);
        w.WriteNumber("bytes", r.Next(40, 2_000_000));
        w.WriteEndObject();
        w.WriteStartArray("tags");
        w.WriteStringValue(Tags[r.Next(Tags.Length)]);
        w.WriteStringValue(host.StartsWith("web", StringComparison.Ordinal) ? "dmz" : "internal");
        w.WriteEndArray();
        w.WriteString("message", activity.Category switch
        {
            "authentication" => $"{(failed ? "Failed" : "Accepted")} password for {user} from {sourceIp} port {sourcePort} ssh2",
            "network" => $"{activity.Action} {sourceIp}:{sourcePort} -> {destinationIp}:{activity.Port}/{activity.Transport}",
            "process" => $"{user} started {activity.Process} -NoProfile -EncodedCommand on {host}",
            "file" => $"{user} created \\\\{host}\\share\\report-{r.Next(1000, 9999)}.xlsx",
            _ => $"Threat detected on {host}: Trojan:Win32/Emotet.{(char)('A' + r.Next(26))} quarantined",
        });
        w.WriteEndObject();
    }

    static readonly (string Type, string Category, bool ToIds)[] AttributeTypes =
    [
        ("ip-dst", "Network activity", true), ("ip-src", "Network activity", true), ("domain", "Network activity", true),
        ("hostname", "Network activity", true), ("url", "Network activity", true), ("md5", "Payload delivery", true),
        ("sha1", "Payload delivery", true), ("sha256", "Payload delivery", true), ("filename", "Payload delivery", false),
        ("email-src", "Payload delivery", true), ("email-subject", "Payload delivery", false), ("ip-dst|port", "Network activity", true),
        ("domain|ip", "Network activity", true), ("filename|sha256", "Payload delivery", true), ("vulnerability", "External analysis", false),
        ("mutex", "Artifacts dropped", true), ("regkey", "Persistence mechanism", true), ("user-agent", "Network activity", false),
        ("AS", "Network activity", false), ("link", "External analysis", false), ("text", "Other", false), ("comment", "Other", false),
    ];

    static readonly string[] AttributeTags = ["tlp:white", "tlp:green", "tlp:amber", "malware:emotet", "malware:qakbot", "misp-galaxy:threat-actor=\"APT28\"", "osint"];
    static readonly string[] Words = ["invoice", "update", "secure", "login", "portal", "cdn", "mail", "files", "support", "account"];

    static void WriteAttribute(Utf8JsonWriter w, Random r, long i, DateTimeOffset at, int seed)
    {
        var (type, category, toIds) = AttributeTypes[r.Next(AttributeTypes.Length)];
        var eventNumber = r.Next(0, 300);
        w.WriteStartObject();
        w.WriteString("uuid", DeterministicUuid(seed, "attribute", i));
        w.WriteString("event_uuid", DeterministicUuid(seed, "event", eventNumber));
        w.WriteString("event_info", $"OSINT campaign #{eventNumber}: {Words[eventNumber % Words.Length]} phishing wave");
        w.WriteString("type", type);
        w.WriteString("category", category);
        w.WriteString("value", ValueOf(type, r));
        w.WriteBoolean("to_ids", toIds);
        w.WriteNumber("distribution", r.Next(0, 4));
        w.WriteString("comment", r.Next(4) == 0 ? "seen in sandbox run" : "");
        w.WriteNumber("timestamp", at.ToUnixTimeSeconds());
        w.WriteString("@timestamp", at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        if (r.Next(3) > 0)
        {
            w.WriteString("first_seen", at.AddDays(-r.Next(1, 30)).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            w.WriteString("last_seen", at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        }
        w.WriteStartArray("tags");
        var tagCount = r.Next(0, 3);
        for (var t = 0; t < tagCount; t++) w.WriteStringValue(AttributeTags[(eventNumber + t) % AttributeTags.Length]);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    static string ValueOf(string type, Random r)
    {
        string Hex(int bytes) { var b = new byte[bytes]; r.NextBytes(b); return Convert.ToHexString(b).ToLowerInvariant(); }
        string Domain() => $"{Words[r.Next(Words.Length)]}-{Words[r.Next(Words.Length)]}{r.Next(10, 99)}.example";
        string Ip() => $"198.51.100.{r.Next(1, 255)}";
        return type switch
        {
            "ip-dst" or "ip-src" => Ip(),
            "domain" => Domain(),
            "hostname" => $"{Words[r.Next(Words.Length)]}.{Domain()}",
            "url" => $"https://{Domain()}/{Words[r.Next(Words.Length)]}.php?id={r.Next(1000)}",
            "md5" => Hex(16),
            "sha1" => Hex(20),
            "sha256" => Hex(32),
            "filename" => $"{Words[r.Next(Words.Length)]}_{r.Next(100)}.exe",
            "email-src" => $"{Words[r.Next(Words.Length)]}@{Domain()}",
            "email-subject" => $"Your {Words[r.Next(Words.Length)]} is ready",
            "ip-dst|port" => $"{Ip()}|{r.Next(1, 65535)}",
            "domain|ip" => $"{Domain()}|{Ip()}",
            "filename|sha256" => $"{Words[r.Next(Words.Length)]}.dll|{Hex(32)}",
            "vulnerability" => $"CVE-20{r.Next(15, 26)}-{r.Next(1000, 49999)}",
            "mutex" => $"Global\\{Hex(4)}",
            "regkey" => $"HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\{Words[r.Next(Words.Length)]}",
            "user-agent" => $"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {Words[r.Next(Words.Length)]}/{r.Next(1, 9)}.0",
            "AS" => $"AS{r.Next(1000, 65000)}",
            "link" => $"https://osint.example/report/{r.Next(10000)}",
            _ => $"Observed {Words[r.Next(Words.Length)]} activity from \"{Domain()}\"",
        };
    }

    static string DeterministicUuid(int seed, string kind, long number)
    {
        var bytes = System.Security.Cryptography.MD5.HashData(System.Text.Encoding.UTF8.GetBytes($"{seed}:{kind}:{number}"));
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(Convert.ToHexString(bytes)).ToString();
    }
}
