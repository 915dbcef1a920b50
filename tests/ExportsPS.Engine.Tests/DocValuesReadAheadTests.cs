using System.Text;
using ExportsPS.Engine.Sources.Embedded;
using Lucene.Net.Analysis.Core;
using Lucene.Net.Documents;
using Lucene.Net.Index;
using Lucene.Net.Store;
using Lucene.Net.Util;

namespace ExportsPS.Engine.Tests;

/// <summary>The embedded index reads <c>_source</c> doc values through 64 KiB buffers, in plain and in compound
/// segments, and leaves other files at Lucene's default; the values read are the values written.</summary>
public sealed class DocValuesReadAheadTests : IDisposable
{
    readonly string _folder = Path.Combine(Path.GetTempPath(), "exportsps-readahead-" + Guid.NewGuid().ToString("N")[..12]);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Doc_values_are_read_through_wide_buffers_and_other_files_keep_the_default(bool compound)
    {
        var written = Enumerable.Range(0, 3000).Select(i => $"{{\"n\":{i},\"pad\":\"{new string('x', i % 700)}\"}}").ToList();
        using (var directory = FSDirectory.Open(_folder))
        using (var writer = new IndexWriter(directory, new IndexWriterConfig(LuceneVersion.LUCENE_48, new KeywordAnalyzer()) { UseCompoundFile = compound }))
        {
            foreach (var source in written)
                writer.AddDocument(new Document
                {
                    new StringField("id", source.GetHashCode().ToString(), Field.Store.NO),
                    new BinaryDocValuesField("_source", new BytesRef(Encoding.UTF8.GetBytes(source))),
                });
            writer.Commit();
        }

        using var readAhead = EmbeddedIndexStore.OpenDirectory(_folder);
        var files = readAhead.ListAll();
        var compoundFiles = new List<CompoundFileDirectory>(); // closed at the end, or Windows keeps the folder
        Assert.Equal(compound, files.Any(f => f.EndsWith(".cfs", StringComparison.Ordinal)));
        var segmentFiles = compound
            ? files.Where(f => f.EndsWith(".cfs", StringComparison.Ordinal))
                .SelectMany(cfs =>
                {
                    var inner = new CompoundFileDirectory(readAhead, cfs, IOContext.READ, false);
                    compoundFiles.Add(inner);
                    return inner.ListAll().Select(name => (Directory: (Lucene.Net.Store.Directory)inner, Name: name));
                }).ToList()
            : files.Select(name => (Directory: readAhead, Name: name)).ToList();
        Assert.Contains(segmentFiles, f => f.Name.EndsWith(".dvd", StringComparison.Ordinal));
        foreach (var (directory, name) in segmentFiles.Where(f => f.Name.EndsWith(".dvd", StringComparison.Ordinal) || f.Name.EndsWith(".tim", StringComparison.Ordinal)))
        {
            using var input = (BufferedIndexInput)directory.OpenInput(name, IOContext.READ);
            Assert.Equal(name.EndsWith(".dvd", StringComparison.Ordinal) ? 64 * 1024 : BufferedIndexInput.BUFFER_SIZE, input.BufferSize);
        }
        compoundFiles.ForEach(c => c.Dispose());

        using var reader = DirectoryReader.Open(readAhead);
        var read = new List<string>();
        var scratch = new BytesRef();
        foreach (var leaf in reader.Leaves)
        {
            var values = leaf.AtomicReader.GetBinaryDocValues("_source");
            for (var doc = 0; doc < leaf.AtomicReader.MaxDoc; doc++)
            {
                values.Get(doc, scratch);
                read.Add(Encoding.UTF8.GetString(scratch.Bytes, scratch.Offset, scratch.Length));
            }
        }
        Assert.Equal(written, read);
    }

    public void Dispose()
    {
        if (System.IO.Directory.Exists(_folder)) System.IO.Directory.Delete(_folder, recursive: true);
    }
}
