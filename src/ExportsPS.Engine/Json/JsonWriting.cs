using System.Text.Encodings.Web;
using System.Text.Json;

namespace ExportsPS.Engine.Json;

/// <summary>Writer options for files other tools read: '+', quotes and non-ASCII stay as they are
/// (2026-06-19T00:00:00.000000+00:00, not \u002B00:00); only what JSON requires is escaped.</summary>
public static class JsonWriting
{
    public static readonly JsonWriterOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
