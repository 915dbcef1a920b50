using System.Globalization;

namespace ExportsPS.Engine.Exports;

/// <summary>Process-wide settings, overridable by environment variables for tests and operators.</summary>
public sealed record EngineSettings
{
    public string Host { get; init; } = Environment.MachineName;
    public string Actor { get; init; } = $"{Environment.UserName}@{Environment.MachineName}";
    /// <summary>How often a running run records progress and checks for cancellation.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>A running run whose heartbeat is older than this is considered dead (its process ended).</summary>
    public TimeSpan RunLease { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>How often a resumable run makes its file durable and records where it is (Start-Export -Resume
    /// continues from the last one). Each costs an fsync and ends a gzip member.</summary>
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromSeconds(10);

    public static EngineSettings FromEnvironment()
    {
        var settings = new EngineSettings();
        if (Seconds("EXPORTSPS_HEARTBEAT_SECONDS") is { } heartbeat) settings = settings with { HeartbeatInterval = heartbeat };
        if (Seconds("EXPORTSPS_RUN_LEASE_SECONDS") is { } lease) settings = settings with { RunLease = lease };
        if (Seconds("EXPORTSPS_CHECKPOINT_SECONDS") is { } checkpoint) settings = settings with { CheckpointInterval = checkpoint };
        return settings;
    }

    static TimeSpan? Seconds(string variable) =>
        double.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0
            ? TimeSpan.FromSeconds(s)
            : null;
}
