namespace ExportsPS.Tests.Shared;

/// <summary>A test that needs an external service (PostgreSQL, S3, OpenSearch) named by an environment
/// variable. Without it the test is skipped on a developer machine, but CI sets
/// EXPORTSPS_REQUIRE_SERVICES=1 (after .ci/run started the services), and then a missing variable
/// is a failure, never a silent skip.</summary>
public sealed class ServiceFactAttribute : FactAttribute
{
    public ServiceFactAttribute(string environmentVariable)
    {
        var value = Environment.GetEnvironmentVariable(environmentVariable);
        if (!string.IsNullOrWhiteSpace(value)) return;
        if (Environment.GetEnvironmentVariable("EXPORTSPS_REQUIRE_SERVICES") == "1") return; // runs, and fails on the missing service
        Skip = $"{environmentVariable} is not set (start the service as .ci/run does to run this test)";
    }

    public static string Require(string environmentVariable) =>
        Environment.GetEnvironmentVariable(environmentVariable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{environmentVariable} is not set but EXPORTSPS_REQUIRE_SERVICES=1: the service did not start.");
}

/// <summary>A test against a service CI cannot start (a real OpenSearch cluster): it runs when the variable
/// names one and is skipped otherwise, in CI too.</summary>
public sealed class LiveFactAttribute : FactAttribute
{
    public LiveFactAttribute(string environmentVariable)
    {
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(environmentVariable)))
            Skip = $"{environmentVariable} is not set: point it at a live cluster to run this test";
    }
}
