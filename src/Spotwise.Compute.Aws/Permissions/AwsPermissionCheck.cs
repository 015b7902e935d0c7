using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Amazon.SQS;
using Amazon.SQS.Model;
using Spotwise.Core;
using Spotwise.Runtime;

namespace Spotwise.Compute.Aws.Permissions;

/// <summary>
/// Which of the permissions the aws backend needs the caller holds, asked without changing anything. EC2 calls carry
/// <c>DryRun</c> (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/CommonParameters.html): EC2 answers
/// <c>DryRunOperation</c> when the request would have succeeded and <c>UnauthorizedOperation</c> when it is not allowed,
/// and does nothing. SQS has no dry run: its two read calls are made for real, harmlessly
/// (<see cref="CheckQueueAsync"/>).
/// </summary>
public sealed class AwsPermissionCheck(IAmazonEC2 ec2, IAmazonSQS? sqs)
{
    /// <summary>A well-formed instance id no instance has: the terminate dry run's target when this installation has none.</summary>
    public const string MadeUpInstanceId = "i-00000000000000000";

    public async Task<IReadOnlyList<PermissionResult>> RunAsync(PermissionCheckRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var results = new List<PermissionResult>
        {
            await DryRunAsync("ec2:RunInstances", ct => ec2.RunInstancesAsync(LaunchDryRun(request), ct), LaunchDetail(request), cancellationToken),
            await DryRunAsync("ec2:DescribeInstances", ct => ec2.DescribeInstancesAsync(new DescribeInstancesRequest
            {
                DryRun = true,
                Filters = [new Filter($"tag:{Ec2Tags.ManagedBy}", [request.ManagedBy])],
            }, ct), "", cancellationToken),
        };
        results.Add(await CheckTerminateAsync(request, describeAllowed: results[^1].Status == PermissionStatus.Ok, cancellationToken));
        results.Add(await DryRunAsync("ec2:DescribeSpotPriceHistory", ct => ec2.DescribeSpotPriceHistoryAsync(new DescribeSpotPriceHistoryRequest
        {
            DryRun = true,
            ProductDescriptions = ["Linux/UNIX"],
            InstanceTypes = [request.InstanceType],
        }, ct), "", cancellationToken));
        results.Add(await DryRunAsync("ec2:DescribeInstanceTypeOfferings", ct => ec2.DescribeInstanceTypeOfferingsAsync(new DescribeInstanceTypeOfferingsRequest
        {
            DryRun = true,
            LocationType = LocationType.AvailabilityZone,
        }, ct), "", cancellationToken));
        results.Add(await DryRunAsync("ec2:DescribeSubnets", ct => ec2.DescribeSubnetsAsync(new DescribeSubnetsRequest
        {
            DryRun = true,
            SubnetIds = request.Subnets.Count > 0 ? [.. request.Subnets] : null,
        }, ct), request.Subnets.Count > 0 ? $"subnets {string.Join(", ", request.Subnets)}" : "", cancellationToken));
        if (request.InterruptionQueue is { } queue && sqs is not null)
        {
            results.AddRange(await CheckQueueAsync(queue, cancellationToken));
        }
        return results;
    }

    /// <summary>
    /// The backend's own RunInstances (<see cref="AwsEc2Compute.RunRequest"/>: template, subnet, spot one-time/terminate,
    /// tags on instance and volumes) as a dry run. Tags at launch need ec2:CreateTags on create: a policy without it fails here.
    /// </summary>
    private RunInstancesRequest LaunchDryRun(PermissionCheckRequest request)
    {
        const string Zone = "permission-check";
        var subnet = request.Subnets.Count > 0 ? request.Subnets[0] : null;
        var options = new AwsComputeOptions
        {
            LaunchTemplateId = request.LaunchTemplateId,
            SubnetsByZone = new Dictionary<string, string>(StringComparer.Ordinal) { [Zone] = subnet ?? "" },
            ManagedBy = request.ManagedBy,
        };
        var launch = new LaunchRequest(ClientTokens.For(new JobKey("spotwise", "permission-check"), 1), "spotwise", "permission-check", 1,
            Market.Spot, request.InstanceType, Zone, WorkHours: 0, Checkpointable: false, CheckpointIntervalHours: 0, Command: null);
        // The backend only writes the request here; it calls nothing.
        var run = new AwsEc2Compute(ec2, options, TimeProvider.System).RunRequest(launch);
        run.DryRun = true;
        run.ClientToken = null; // A dry run spends no token; none is needed.
        run.SubnetId = subnet; // None given: the template's or the default VPC's.
        return run;
    }

    private static string LaunchDetail(PermissionCheckRequest r) =>
        $"launch template {r.LaunchTemplateId}, {r.InstanceType} spot" + (r.Subnets.Count > 0 ? $" in {r.Subnets[0]}" : "")
        + ", tagged on create: ec2:CreateTags too";

    /// <summary>
    /// On an instance of this installation when there is one (a policy that conditions terminate on the managed-by tag is
    /// then judged as it will be); else on <see cref="MadeUpInstanceId"/>, where EC2 may look the id up before judging the
    /// permission and answer InvalidInstanceID.NotFound, which proves nothing either way.
    /// </summary>
    private async Task<PermissionResult> CheckTerminateAsync(PermissionCheckRequest request, bool describeAllowed, CancellationToken ct)
    {
        var target = describeAllowed ? await AnyManagedInstanceAsync(request.ManagedBy, ct) : null;
        var id = target ?? MadeUpInstanceId;
        var result = await DryRunAsync("ec2:TerminateInstances",
            c => ec2.TerminateInstancesAsync(new TerminateInstancesRequest { DryRun = true, InstanceIds = [id] }, c),
            target is null ? $"on made-up id {id}, no instance of this installation being there to try it on" : $"on {id}, an instance of this installation", ct);
        return result.Status == PermissionStatus.Error && result.Detail.StartsWith("InvalidInstanceID.", StringComparison.Ordinal)
            ? result with
            {
                Status = PermissionStatus.Unknown,
                Detail = $"EC2 judged made-up id {id} before the permission ({result.Detail}); run again once an instance of this installation exists",
            }
            : result;
    }

    private async Task<string?> AnyManagedInstanceAsync(string managedBy, CancellationToken ct)
    {
        try
        {
            var page = await ec2.DescribeInstancesAsync(new DescribeInstancesRequest
            {
                Filters = [new Filter($"tag:{Ec2Tags.ManagedBy}", [managedBy]), new Filter("instance-state-name", ["pending", "running", "stopping", "stopped"])],
                MaxResults = 5,
            }, ct).ConfigureAwait(false);
            return (page.Reservations ?? []).SelectMany(r => r.Instances ?? []).Select(i => i.InstanceId).FirstOrDefault();
        }
        catch (AmazonServiceException)
        {
            return null; // The describe row says what went wrong; the terminate check falls back to a made-up id.
        }
    }

    /// <summary>
    /// SQS has no dry run. GetQueueAttributes reads only the queue's ARN. ReceiveMessage asks for at most one message
    /// with <c>VisibilityTimeout</c> 0 and no wait: a message it happens to receive is visible again at once (its receive
    /// count goes up by one), and nothing is deleted.
    /// </summary>
    private async Task<IReadOnlyList<PermissionResult>> CheckQueueAsync(Uri queue, CancellationToken ct) =>
    [
        await CallAsync("sqs:GetQueueAttributes", async c =>
        {
            var attributes = await sqs!.GetQueueAttributesAsync(new GetQueueAttributesRequest { QueueUrl = queue.ToString(), AttributeNames = ["QueueArn"] }, c);
            return $"queue {attributes.QueueARN ?? queue.ToString()}";
        }, ct),
        await CallAsync("sqs:ReceiveMessage", async c =>
        {
            var received = await sqs!.ReceiveMessageAsync(new ReceiveMessageRequest
            {
                QueueUrl = queue.ToString(),
                MaxNumberOfMessages = 1,
                WaitTimeSeconds = 0,
                VisibilityTimeout = 0,
            }, c);
            return $"received {received.Messages?.Count ?? 0} message(s), left visible (VisibilityTimeout 0)";
        }, ct),
    ];

    /// <summary>
    /// An EC2 call with DryRun set: DryRunOperation is the answer hoped for. A success means the endpoint ignored DryRun
    /// and did the thing (some EC2-compatible servers do): an error, since it proves nothing and may have launched.
    /// </summary>
    private static async Task<PermissionResult> DryRunAsync(string permission, Func<CancellationToken, Task> call, string detail, CancellationToken ct)
    {
        var result = await CallAsync(permission, async c =>
        {
            await call(c).ConfigureAwait(false);
            return "";
        }, ct, detail).ConfigureAwait(false);
        return result is { Status: PermissionStatus.Ok, Detail: "" }
            ? result with { Status = PermissionStatus.Error, Detail = "the endpoint ran the call although DryRun was set: it ignores DryRun, and may have made something" }
            : result;
    }

    private static async Task<PermissionResult> CallAsync(string permission, Func<CancellationToken, Task<string>> call, CancellationToken ct, string? dryRunDetail = null)
    {
        try
        {
            return new(permission, PermissionStatus.Ok, await call(ct).ConfigureAwait(false));
        }
        catch (AmazonServiceException e) when (e.ErrorCode == "DryRunOperation")
        {
            return new(permission, PermissionStatus.Ok, "DryRun: would have succeeded" + (dryRunDetail is { Length: > 0 } d ? $"; {d}" : ""));
        }
        catch (AmazonServiceException e) when (IsDenied(e))
        {
            return new(permission, PermissionStatus.Missing, $"{e.ErrorCode}: {WithoutEncodedMessage(e.Message)}");
        }
        catch (AmazonServiceException e)
        {
            return new(permission, PermissionStatus.Error, $"{e.ErrorCode}: {e.Message}");
        }
        catch (Exception e) when (e is AmazonClientException or HttpRequestException)
        {
            return new(permission, PermissionStatus.Error, e.Message);
        }
    }

    /// <summary>EC2 says UnauthorizedOperation; SQS, under its JSON or query protocol, AccessDenied(Exception).</summary>
    private static bool IsDenied(AmazonServiceException e) =>
        e.ErrorCode is "UnauthorizedOperation" or "AccessDenied" or "AccessDeniedException";

    /// <summary>
    /// EC2 appends an encoded authorization failure message (a page of base64; <c>aws sts decode-authorization-message</c>
    /// reads it): the sentence before it already names the action.
    /// </summary>
    private static string WithoutEncodedMessage(string message)
    {
        var at = message.IndexOf(" Encoded authorization failure message:", StringComparison.Ordinal);
        return at < 0 ? message : message[..at];
    }
}
