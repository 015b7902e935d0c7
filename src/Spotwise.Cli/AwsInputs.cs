using System.Net;
using Amazon.Runtime;
using Spotwise.Core;

namespace Spotwise.Cli;

/// <summary>Instance type lists as the AWS commands take them: comma-separated, each one the catalog knows.</summary>
public static class InstanceTypes
{
    public static List<string> Parse(string text, Catalog catalog, string flag, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(errors);
        var types = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToList();
        if (types.Count == 0)
        {
            errors.Add($"{flag}: name at least one instance type");
        }
        errors.AddRange(types.Where(t => catalog.Find(t) is null).Select(t => $"{flag}: '{t}' is not an instance type of the catalog"));
        return types;
    }
}

/// <summary>An AWS failure as the user reads it: one line, and the exit code it deserves.</summary>
public sealed record AwsFailure(string Message, int ExitCode)
{
    /// <summary>AWS could not be reached or failed on its side.</summary>
    public const int Unreachable = 3;
}

/// <summary>Sorts the AWS SDK's exceptions into bad input (credentials, region, permissions: exit 2) and an unreachable AWS (exit 3).</summary>
public static class AwsErrors
{
    public static AwsFailure? Classify(Exception error) => error switch
    {
        AmazonServiceException s when s.StatusCode is >= HttpStatusCode.BadRequest and < HttpStatusCode.InternalServerError =>
            new($"AWS refused the call: {s.ErrorCode}: {s.Message}", ExitCodes.BadInput),
        AmazonServiceException s => new($"AWS failed: {s.ErrorCode} ({(int)s.StatusCode}): {s.Message}", AwsFailure.Unreachable),
        // No credentials, no region: the SDK's own message names what it tried.
        AmazonClientException c => new(c.Message, ExitCodes.BadInput),
        HttpRequestException h => new($"cannot reach AWS: {h.Message}", AwsFailure.Unreachable),
        _ => null,
    };

    /// <summary>Prints one <c>error:</c> line per problem and answers the bad-input exit code.</summary>
    public static int Refuse(IEnumerable<string> errors, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(stderr);
        foreach (var e in errors)
        {
            stderr.WriteLine($"error: {e}");
        }
        return ExitCodes.BadInput;
    }
}
