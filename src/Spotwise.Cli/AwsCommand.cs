using System.CommandLine;
using System.Text.RegularExpressions;
using Amazon;
using Amazon.EC2;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Amazon.SQS;
using Spotwise.Compute.Aws;
using Spotwise.Compute.Aws.Permissions;

namespace Spotwise.Cli;

/// <summary>
/// <c>spotwise aws check</c>: which of the permissions the aws backend needs the caller's credentials hold, asked with
/// EC2's DryRun (nothing is launched or terminated) and two harmless SQS reads (<see cref="AwsPermissionCheck"/>).
/// Credentials come from the SDK's default chain; <c>AWS_REGION</c> and <c>AWS_ENDPOINT_URL</c>(<c>_EC2</c>, <c>_SQS</c>)
/// are honoured. Exit 0 when every permission is there, 1 when one is missing or could not be checked, 2 on bad input
/// (flags, no region, no credentials).
/// </summary>
public static partial class AwsCommand
{
    /// <summary>Finds credentials for a client's configuration; the command's own is the SDK's default chain.</summary>
    public delegate Task<AWSCredentials> CredentialSource(IClientConfig config);

    public static Command Create(TextWriter stdout, TextWriter stderr, Func<string, string?> env, CredentialSource? credentials)
    {
        var aws = new Command("aws", "Amazon Web Services: check an account before serving on it (see docs/aws.md)");
        aws.Subcommands.Add(CheckCommand(stdout, stderr, env, credentials ?? DefaultAWSCredentialsIdentityResolver.GetCredentialsAsync));
        return aws;
    }

    private static Command CheckCommand(TextWriter stdout, TextWriter stderr, Func<string, string?> env, CredentialSource credentials)
    {
        var region = new Option<string?>("--region") { Description = "The region (default: AWS_REGION, then the SDK's profile)" };
        var template = new Option<string>("--launch-template") { Description = "The launch template the backend launches from (lt-...)", Required = true };
        var subnets = new Option<string?>("--subnets") { Description = "Subnets the backend launches into, comma-separated (subnet-a,subnet-b)" };
        var queue = new Option<string?>("--interruption-queue") { Description = "The SQS queue URL of spot interruption events" };
        var type = new Option<string>("--instance-type") { Description = "The type the RunInstances dry run asks for", DefaultValueFactory = _ => "t3.micro" };
        var command = new Command("check", "Ask AWS, without changing anything, which permissions the aws backend has and which are missing")
        {
            region, template, subnets, queue, type,
        };
        command.SetAction((parse, ct) =>
        {
            var read = AwsCheckInput.Read(parse.GetValue(region), parse.GetValue(template)!, parse.GetValue(subnets), parse.GetValue(queue),
                parse.GetValue(type)!, env);
            return Task.Run(() => RunAsync(read, credentials, stdout, stderr, ct), ct);
        });
        return command;
    }

    private static async Task<int> RunAsync(
        (AwsCheckInput? Input, IReadOnlyList<string> Errors) read, CredentialSource credentials, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        if (read.Input is not { } input)
        {
            foreach (var error in read.Errors)
            {
                await stderr.WriteLineAsync($"error: {error}");
            }
            return ExitCodes.BadInput;
        }
        var ec2Config = AwsComputeRegistration.Config(new AwsComputeOptions
        {
            Region = input.Region,
            ServiceUrl = input.Ec2Endpoint,
            LaunchTemplateId = input.Request.LaunchTemplateId,
            SubnetsByZone = new Dictionary<string, string>(StringComparer.Ordinal),
        });
        AWSCredentials found;
        try
        {
            found = await credentials(ec2Config);
        }
        catch (Exception e) when (e is AmazonClientException or AmazonServiceException)
        {
            // The SDK's own words name every provider it tried (environment, profile, SSO, container, instance role).
            await stderr.WriteLineAsync($"error: no AWS credentials: {e.Message}");
            return ExitCodes.BadInput;
        }
        using var ec2 = new AmazonEC2Client(found, ec2Config);
        using var sqs = input.Request.InterruptionQueue is null ? null : new AmazonSQSClient(found, SqsConfig(input));
        var results = await new AwsPermissionCheck(ec2, sqs).RunAsync(input.Request, ct);
        await stdout.WriteAsync(Table(results));
        var failed = results.Where(r => r.Status is PermissionStatus.Missing or PermissionStatus.Error).ToList();
        if (failed.Count > 0)
        {
            await stderr.WriteLineAsync($"not ready: {string.Join(", ", failed.Select(r => $"{r.Permission} {r.StatusText}"))}");
            return ExitCodes.Partial;
        }
        return ExitCodes.Ok;
    }

    private static AmazonSQSConfig SqsConfig(AwsCheckInput input)
    {
        var config = new AmazonSQSConfig { RegionEndpoint = RegionEndpoint.GetBySystemName(input.Region) };
        if (input.SqsEndpoint is { } url)
        {
            config.ServiceURL = url.ToString();
            config.AuthenticationRegion = input.Region;
        }
        return config;
    }

    /// <summary>permission, result, detail: one row each, columns aligned.</summary>
    public static string Table(IReadOnlyList<PermissionResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var width = Math.Max("permission".Length, results.Max(r => r.Permission.Length));
        var text = new System.Text.StringBuilder();
        text.AppendLine($"{"permission".PadRight(width)}  {"result",-7}  detail");
        foreach (var r in results)
        {
            text.AppendLine($"{r.Permission.PadRight(width)}  {r.StatusText,-7}  {r.Detail}");
        }
        return text.ToString();
    }
}

/// <summary>The check's flags and environment, read and judged: every problem named with its flag or variable.</summary>
internal sealed partial record AwsCheckInput(string Region, Uri? Ec2Endpoint, Uri? SqsEndpoint, PermissionCheckRequest Request)
{
    public static (AwsCheckInput? Input, IReadOnlyList<string> Errors) Read(
        string? region, string template, string? subnets, string? queue, string instanceType, Func<string, string?> env)
    {
        var errors = new List<string>();
        var (regionName, regionSource) = region is not null ? (region, "--region")
            : env("AWS_REGION") is { Length: > 0 } r ? (r, "AWS_REGION")
            : env("AWS_DEFAULT_REGION") is { Length: > 0 } d ? (d, "AWS_DEFAULT_REGION")
            : (null, "--region");
        if (regionName is null)
        {
            errors.Add("--region: no region given, and AWS_REGION is not set");
        }
        else if (!RegionName().IsMatch(regionName))
        {
            errors.Add($"{regionSource}: '{regionName}' is not a region name (us-east-1)");
        }
        if (!TemplateId().IsMatch(template))
        {
            errors.Add($"--launch-template: '{template}' is not a launch template id (lt-...)");
        }
        var subnetIds = (subnets ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        errors.AddRange(subnetIds.Where(s => !SubnetId().IsMatch(s)).Select(s => $"--subnets: '{s}' is not a subnet id (subnet-...)"));
        var queueUrl = Url(queue, "--interruption-queue", errors);
        if (!InstanceTypeName().IsMatch(instanceType))
        {
            errors.Add($"--instance-type: '{instanceType}' is not an instance type (t3.micro)");
        }
        var ec2 = Endpoint(env, "AWS_ENDPOINT_URL_EC2", errors);
        var sqs = Endpoint(env, "AWS_ENDPOINT_URL_SQS", errors);
        return errors.Count > 0
            ? (null, errors)
            : (new AwsCheckInput(regionName!, ec2, sqs, new PermissionCheckRequest(template, subnetIds, instanceType, queueUrl)), []);
    }

    /// <summary>The service's own variable, else <c>AWS_ENDPOINT_URL</c> (the SDK's order), else null: the SDK's endpoint.</summary>
    private static Uri? Endpoint(Func<string, string?> env, string serviceVariable, List<string> errors) =>
        env(serviceVariable) is { Length: > 0 } own ? Url(own, serviceVariable, errors)
        : env("AWS_ENDPOINT_URL") is { Length: > 0 } shared ? Url(shared, "AWS_ENDPOINT_URL", errors)
        : null;

    private static Uri? Url(string? text, string source, List<string> errors)
    {
        if (text is null)
        {
            return null;
        }
        if (Uri.TryCreate(text, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttps || url.Scheme == Uri.UriSchemeHttp))
        {
            return url;
        }
        errors.Add($"{source}: '{text}' is not an http(s) URL");
        return null;
    }

    [GeneratedRegex("^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$")]
    private static partial Regex RegionName();

    [GeneratedRegex("^lt-[0-9a-z]+$")]
    private static partial Regex TemplateId();

    [GeneratedRegex("^subnet-[0-9a-z]+$")]
    private static partial Regex SubnetId();

    [GeneratedRegex("^[a-z0-9-]+\\.[a-z0-9-]+$")]
    private static partial Regex InstanceTypeName();
}
