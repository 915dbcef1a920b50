using ExportsPS.Engine.Storage;

namespace ExportsPS.Engine.Tests;

public sealed class EarlyWritebackTests
{
    /// <summary>The kernel's side cannot be observed from here; that the call binds can (a libc without
    /// sync_file_range, or a broken import, turns early writeback off for good).</summary>
    [Fact]
    public void Writeback_is_started_through_libc_while_a_file_is_written_on_linux()
    {
        if (!OperatingSystem.IsLinux()) return;
        var path = Path.Combine(Path.GetTempPath(), $"exportsps-writeback-{Guid.NewGuid():N}");
        try
        {
            using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
            using (new EarlyWriteback(file.SafeFileHandle))
            {
                var block = new byte[1 << 20];
                for (var i = 0; i < 8; i++)
                {
                    file.Write(block);
                    Thread.Sleep(60); // ticks every 100 ms
                }
            }
            Assert.False(EarlyWriteback.Unavailable);
            Assert.Equal(8L << 20, new FileInfo(path).Length);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
