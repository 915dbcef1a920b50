namespace ExportsPS.Tests.Shared;

/// <summary>Reliability tests report what they tried ("6 kill points", "4,000 fuzzed names") here;
/// test.sh prints the lines after the run, so CI output states exactly what holds.</summary>
public static class ReliabilityReport
{
    static readonly object Gate = new();

    public static void Record(string category, string line)
    {
        var path = Environment.GetEnvironmentVariable("EXPORTSPS_RELIABILITY_REPORT");
        if (string.IsNullOrEmpty(path)) return;
        lock (Gate) File.AppendAllText(path, $"{category}: {line}{Environment.NewLine}");
    }
}
