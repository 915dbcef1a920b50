using System.Text;
using ExportsPS.Engine.Formats;
using ExportsPS.Engine.Formats.Misp;

namespace ExportsPS.Engine.Tests;

/// <summary>Tests that measure the process's live heap: they run alone, after the parallel tests, or
/// another test's allocations would be counted (this one failed in CI that way while running in parallel).</summary>
[CollectionDefinition(nameof(HeapMeasurement), DisableParallelization = true)]
public sealed class HeapMeasurement;

[Collection(nameof(HeapMeasurement))]
public sealed class MispMemoryTests
{
    [Fact]
    public void Misp_writer_holds_no_per_attribute_state_between_50k_and_500k_attributes()
    {
        // The format half of "memory stays flat at 1M" (the source half is MemoryFlatnessTests): live heap
        // after 500k attributes, some in events with objects (spooled to disk), equals the heap after 50k (a retained attribute would cost ≥ 100 bytes, 45 MB in all).
        var warnings = 0;
        using var writer = new MispFormat().CreateWriter(Stream.Null, new FormatContext(ThreatIntelFormatTests.Export, [], _ => warnings++));
        writer.WriteStart();
        long heapAt50k = 0;
        for (var i = 1; i <= 500_000; i++)
        {
            var record = i % 1000 == 0 ? ThreatIntelFormatTests.EventDocument
                : $$"""{"uuid":"u{{i}}","type":"ip-dst","category":"Network activity","value":"10.{{i >> 16 & 255}}.{{i >> 8 & 255}}.{{i & 255}}","to_ids":true,"timestamp":1718755200,"first_seen":1718755200,"tags":["tlp:green"]}""";
            writer.WriteRecord(Encoding.UTF8.GetBytes(record));
            if (i == 50_000) heapAt50k = GC.GetTotalMemory(forceFullCollection: true);
        }
        var heapAt500k = GC.GetTotalMemory(forceFullCollection: true);
        writer.WriteEnd();
        Assert.Equal(0, warnings);
        Assert.True(heapAt500k - heapAt50k < 8 << 20, $"live heap grew from {heapAt50k >> 20} MB at 50k to {heapAt500k >> 20} MB at 500k attributes");
    }
}
