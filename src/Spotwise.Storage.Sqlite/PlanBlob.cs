using System.IO.Compression;
using System.Text.Json;
using Spotwise.Core.Serialization;

namespace Spotwise.Storage.Sqlite;

/// <summary>The stored form of a plan document: its JSON, gzipped (about a tenth of the text).</summary>
internal static class PlanBlob
{
    public static byte[] Write(PlanDocument plan, JsonSerializerOptions json)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            JsonSerializer.Serialize(gzip, plan, json);
        }
        return buffer.ToArray();
    }

    public static PlanDocument? Read(Stream stored, JsonSerializerOptions json)
    {
        using var gzip = new GZipStream(stored, CompressionMode.Decompress);
        return JsonSerializer.Deserialize<PlanDocument>(gzip, json);
    }
}
