using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http.HttpResults;
using Spotwise.Core.Serialization;
using Spotwise.Runtime.Intake;

namespace Spotwise.Server;

/// <summary>
/// The HTTP side of the intake: a jobs request's body as bytes, refused before it is read when it is not JSON (415),
/// and the intake's errors as a ValidationProblem keyed by field path (<c>jobs[i].field</c>).
/// </summary>
public static class JobInput
{
    public const int MaxBatch = JobIntake.MaxJobsPerRequest;
    public const long MaxBodyBytes = JobIntake.MaxBodyBytes;

    /// <summary>
    /// The body's bytes, or the refusal to answer with. Its size is <see cref="BodyLimits"/>' business, as on every
    /// endpoint: past <see cref="MaxBodyBytes"/> the request is answered 413 before this reads it, or while it reads.
    /// </summary>
    public static async Task<(byte[]? Body, ProblemHttpResult? Refusal)> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!IsJson(request.ContentType))
        {
            return (null, UnsupportedMediaType(request.ContentType));
        }
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        return (buffer.ToArray(), null);
    }

    /// <summary>The intake's errors as ValidationProblem's field map: one key per field path, every message kept.</summary>
    public static Dictionary<string, string[]> Errors(IEnumerable<InputError> errors) =>
        errors.GroupBy(e => e.Path.Length > 0 ? e.Path : JobsFile.WholeDocument, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(e => e.ToString()).ToArray(), StringComparer.Ordinal);

    /// <summary><c>application/json</c>, with or without parameters; a charset other than UTF-8 is not JSON (RFC 8259 §8.1).</summary>
    internal static bool IsJson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var type)
        && string.Equals(type.MediaType, "application/json", StringComparison.OrdinalIgnoreCase)
        && (type.CharSet is null || string.Equals(type.CharSet.Trim('"'), "utf-8", StringComparison.OrdinalIgnoreCase));

    public static ProblemHttpResult TooLarge() => TypedResults.Problem(
        statusCode: StatusCodes.Status413PayloadTooLarge,
        title: "Request body too large",
        detail: $"the body is larger than {MaxBodyBytes / (1024 * 1024)} MiB; send at most {MaxBatch} jobs per request");

    private static ProblemHttpResult UnsupportedMediaType(string? contentType) => TypedResults.Problem(
        statusCode: StatusCodes.Status415UnsupportedMediaType,
        title: "Jobs are sent as JSON",
        detail: $"Content-Type is {(string.IsNullOrEmpty(contentType) ? "missing" : $"'{contentType}'")}; send application/json (UTF-8)");
}
