using System.Globalization;
using Spotwise.Core;
using Spotwise.Core.Serialization;

namespace Spotwise.Cli;

/// <summary>Loads the files a command needs, turning every problem into a line for the user.</summary>
public static class Inputs
{
    /// <summary>The catalog shipped next to the binary (copied there by the build).</summary>
    public static string DefaultCatalogPath => Path.Combine(AppContext.BaseDirectory, "data", "catalog", "aws-us-east-1.csv");

    public static ParseResult<Catalog> LoadCatalog(string? path)
    {
        path ??= DefaultCatalogPath;
        if (!File.Exists(path))
        {
            return Fail<Catalog>("--catalog", $"file '{path}' does not exist");
        }
        try
        {
            using var reader = File.OpenText(path);
            return new(WithShippedTransfer(CatalogCsv.Parse(reader, path)), []);
        }
        catch (FormatException e)
        {
            return Fail<Catalog>("--catalog", e.Message);
        }
    }

    /// <summary>The inter-region transfer table shipped next to the binary (data/transfer; its source is in data/README.md).</summary>
    public static string DefaultTransferPath => Path.Combine(AppContext.BaseDirectory, "data", "transfer", "aws-inter-region.csv");

    /// <summary>The catalog with the shipped transfer table, which prices jobs whose <c>dataRegion</c> is not where they run.</summary>
    private static Catalog WithShippedTransfer(Catalog catalog)
    {
        if (!File.Exists(DefaultTransferPath))
        {
            return catalog;
        }
        using var reader = File.OpenText(DefaultTransferPath);
        return catalog.WithTransfer(TransferCsv.Parse(reader, DefaultTransferPath));
    }

    public static ParseResult<CapacityLimits> LoadLimits(string? path, bool noLimits, Catalog catalog)
    {
        if (noLimits)
        {
            return path is null ? new(CapacityLimits.None, []) : Fail<CapacityLimits>("--no-limits", "cannot be used with --limits");
        }
        if (path is null)
        {
            return new(CapacityLimits.Default, []);
        }
        return File.Exists(path) ? LimitsFile.Parse(File.ReadAllText(path), catalog) : Fail<CapacityLimits>("--limits", $"file '{path}' does not exist");
    }

    public static ParseResult<DateTimeOffset> ParseNow(string? text, TimeProvider time)
    {
        if (text is null)
        {
            return new(time.GetUtcNow(), []);
        }
        return TimeText.TryParse(text, time.GetUtcNow(), out var now, out var why)
            ? new(now, [])
            : Fail<DateTimeOffset>("--now", why!);
    }

    public static ParseResult<System.Collections.Immutable.ImmutableArray<Job>> LoadJobs(string path, DateTimeOffset now, Catalog catalog)
    {
        if (!File.Exists(path))
        {
            return Fail<System.Collections.Immutable.ImmutableArray<Job>>("jobs file", $"'{path}' does not exist");
        }
        // The intake's reader, on the file's bytes: the same rules as the HTTP API (strict JSON, UTF-8, bounds).
        var read = Spotwise.Runtime.Intake.JobIntake.Read(File.ReadAllBytes(path), now, catalog, JobsReadOptions.File);
        return read.Ok ? new([.. read.Jobs.Select(j => j.Job)], []) : new(default, read.Errors);
    }

    private static ParseResult<T> Fail<T>(string where, string message) => new(default, [new InputError(where, "", message)]);

    public static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
