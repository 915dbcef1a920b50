namespace ExportsPS.Engine.Storage.S3;

/// <summary>How large each part of a multipart upload is. S3 takes at most 10,000 parts and a run does not know its
/// file's size in advance, so a fixed part size caps the file (80 GB at 8 MiB) and fails it at part 10,001, after
/// all the work. Parts keep the chosen size for the first <see cref="ConstantParts"/> (memory stays at part size ×
/// parts in flight for any file up to half the cap), then double every <see cref="PartsPerDoubling"/>: 67× the
/// part size fits, 523 GiB at the default 8 MiB. Parts may differ in size; all but the last must be 5 MiB or more.</summary>
internal readonly record struct PartPlan(int FirstSize, int ConstantParts = 5_000, int PartsPerDoubling = 1_000, int MaxParts = 10_000)
{
    /// <summary>A part is one array in memory: 1 GiB keeps it far inside .NET's limits and S3's (5 GiB).</summary>
    public const int MaxPartSize = 1 << 30;

    public int SizeOf(int partNumber)
    {
        if (partNumber <= ConstantParts) return FirstSize;
        var doublings = Math.Min(30, (partNumber - ConstantParts - 1) / PartsPerDoubling + 1);
        return (int)Math.Min((long)FirstSize << doublings, MaxPartSize);
    }

    /// <summary>The largest file the plan fits into <see cref="MaxParts"/> parts.</summary>
    public long Capacity
    {
        get
        {
            long total = 0;
            for (var part = 1; part <= MaxParts; part++) total += SizeOf(part);
            return total;
        }
    }
}
