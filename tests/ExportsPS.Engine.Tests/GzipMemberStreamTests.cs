using System.Diagnostics;
using System.IO.Compression;
using ExportsPS.Engine.Storage;

namespace ExportsPS.Engine.Tests;

/// <summary>Gzip written as members (a resumable run ends one at each checkpoint): whatever the sizes and
/// cuts, plain gzip readers (.NET's GZipStream and the gzip tool) get back exactly the bytes written, and an
/// empty result is still a valid gzip file.</summary>
public sealed class GzipMemberStreamTests
{
    static byte[] Text(int length, int seed)
    {
        var random = new Random(seed);
        var words = new[] { "alice", "bob", "login", "failure", "10.0.0.1", "{\"event\":", "}\n", "x" };
        var bytes = new List<byte>(length);
        while (bytes.Count < length) bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(words[random.Next(words.Length)]));
        return bytes.Take(length).ToArray();
    }

    static byte[] Compress(byte[] data, int[] cuts)
    {
        using var output = new MemoryStream();
        using (var gzip = new GzipMemberStream(output, CompressionLevel.Fastest))
        {
            var position = 0;
            foreach (var cut in cuts.Append(data.Length))
            {
                // Odd write sizes, so blocks fill across writes.
                while (position < cut)
                {
                    var take = Math.Min(cut - position, 7919);
                    gzip.Write(data, position, take);
                    position += take;
                }
                gzip.EndMember();
            }
        }
        return output.ToArray();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(1 << 20)]
    [InlineData((1 << 20) + 1)]
    [InlineData(5 * (1 << 20) + 12345)]
    public void Round_trips_through_gzipstream_and_the_gzip_tool(int length)
    {
        var data = Text(length, length);
        var cuts = length > 10 ? new[] { length / 3, length / 3, 2 * length / 3 } : [];
        var compressed = Compress(data, cuts);

        using (var reader = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress))
        using (var back = new MemoryStream())
        {
            reader.CopyTo(back);
            Assert.Equal(data, back.ToArray());
        }

        var path = Path.Combine(Path.GetTempPath(), $"members-{Guid.NewGuid():N}.gz");
        File.WriteAllBytes(path, compressed);
        try
        {
            using var gzip = Process.Start(new ProcessStartInfo("gzip", ["-dc", path]) { RedirectStandardOutput = true })!;
            using var back = new MemoryStream();
            gzip.StandardOutput.BaseStream.CopyTo(back);
            gzip.WaitForExit();
            Assert.Equal(0, gzip.ExitCode);
            Assert.Equal(data, back.ToArray());
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Members_cost_little_ratio_against_one_stream()
    {
        var data = Text(8 * (1 << 20), 3);
        using var single = new MemoryStream();
        using (var gzip = new GZipStream(single, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(data);
        var members = Compress(data, Enumerable.Range(1, 7).Select(i => i << 20).ToArray()); // a cut every MiB
        Assert.True(members.Length < single.Length * 1.02, $"{members.Length} bytes in members vs {single.Length} in one stream");
    }
}
