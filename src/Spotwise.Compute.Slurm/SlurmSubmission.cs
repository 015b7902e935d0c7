using System.Globalization;
using System.Text;
using Spotwise.Core;
using Spotwise.Runtime;

namespace Spotwise.Compute.Slurm;

/// <summary>
/// What an attempt is to sbatch: the arguments (name, partition, time, deadline, requeue, output, comment) and the batch
/// script on stdin (the job's identity as environment variables, then its command). docs/slurm.md lists each mapping.
/// </summary>
internal sealed record SlurmSubmission(IReadOnlyList<string> Arguments, string Script, string OutputPattern, string Comment)
{
    /// <summary>The comment's mark: a job carrying it was submitted by Spotwise, and the rest says what it was asked for.</summary>
    public const string CommentMark = "spotwise";

    public static SlurmSubmission For(LaunchRequest request, SlurmComputeOptions options, DateTimeOffset now)
    {
        var name = options.JobNamePrefix + request.ClientToken;
        var output = Path.Combine(options.OutputDirectory, Sanitise(name) + "-%j.out");
        var comment = CommentFor(request);
        var workMinutes = Math.Max(1, (int)Math.Ceiling(request.WorkHours * 60));
        var limitMinutes = (int)Math.Ceiling(request.WorkHours * 60 * options.TimeLimitFactor) + 1;
        var arguments = new List<string>
        {
            "--parsable",
            $"--job-name={name}",
            $"--partition={options.PartitionFor(request.Market)}",
            Invariant($"--time={limitMinutes}"),
            $"--output={output}",
            $"--comment={comment}",
            // Spot attempts may be requeued by preemption (the backend reads that as the interruption and cancels the
            // requeued job); on-demand attempts never run twice behind Spotwise's back.
            request.Market == Market.Spot ? "--requeue" : "--no-requeue",
        };
        if (request.Deadline is { } deadline && deadline > now)
        {
            // Slurm removes a job that cannot end by its deadline (start > deadline - time-min): the minimum is the work
            // itself, not the padded limit, so slack for the padding is never mistaken for a miss.
            arguments.Add(Invariant($"--deadline={deadline.UtcDateTime:yyyy-MM-ddTHH:mm:ss}"));
            arguments.Add(Invariant($"--time-min={workMinutes}"));
        }
        return new SlurmSubmission(arguments, ScriptFor(request), output, comment);
    }

    /// <summary>What the comment records, so describe reports the attempt as it was asked for: market, type, zone, work.</summary>
    public static string CommentFor(LaunchRequest request) => Invariant(
        $"{CommentMark} market={request.Market.ToWire()} type={request.InstanceType} zone={request.Zone} work={request.WorkHours:R}");

    /// <summary>Reads <see cref="CommentFor"/> back; null when the comment is not Spotwise's.</summary>
    public static IReadOnlyDictionary<string, string>? ReadComment(string comment)
    {
        var parts = comment.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || parts[0] != CommentMark)
        {
            return null;
        }
        return parts.Skip(1).Select(p => p.Split('=', 2)).Where(kv => kv.Length == 2)
            .GroupBy(kv => kv[0], StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First()[1], StringComparer.Ordinal);
    }

    private static string ScriptFor(LaunchRequest request)
    {
        var script = new StringBuilder();
        script.Append("#!/bin/sh\n");
        script.Append("# Submitted by Spotwise: ").Append(request.ClientToken.Replace('\n', ' ')).Append('\n');
        script.Append("export SPOTWISE_TEAM=").Append(Quote(request.Team)).Append('\n');
        script.Append("export SPOTWISE_JOB_ID=").Append(Quote(request.JobId)).Append('\n');
        script.Append(Invariant($"export SPOTWISE_ATTEMPT={request.Attempt}\n"));
        script.Append(request.Command).Append('\n');
        return script.ToString();
    }

    /// <summary>A value as one single-quoted shell word.</summary>
    private static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>A job name as a file name: letters, digits, '-', '_' and '.' kept, the rest '_'.</summary>
    private static string Sanitise(string name) =>
        new([.. name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_')]);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
