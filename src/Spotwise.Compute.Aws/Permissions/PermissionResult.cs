namespace Spotwise.Compute.Aws.Permissions;

/// <summary>What a check found out about one permission.</summary>
public enum PermissionStatus
{
    /// <summary>EC2 said the request would have succeeded (DryRunOperation), or the SQS call succeeded.</summary>
    Ok,

    /// <summary>The caller is not allowed (UnauthorizedOperation, AccessDenied).</summary>
    Missing,

    /// <summary>The answer says nothing about the permission (EC2 judged the made-up instance id first).</summary>
    Unknown,

    /// <summary>The call failed for another reason (a queue that does not exist, an endpoint out of reach, bad credentials).</summary>
    Error,
}

/// <summary>One row of <c>spotwise aws check</c>: the IAM action (<c>ec2:RunInstances</c>), what was found, and how.</summary>
public sealed record PermissionResult(string Permission, PermissionStatus Status, string Detail)
{
    public string StatusText => Status.ToString().ToLowerInvariant();
}

/// <summary>What to check: the launch the backend would make, and the interruption queue if there is one.</summary>
/// <param name="LaunchTemplateId">The launch template RunInstances names.</param>
/// <param name="Subnets">The subnets the backend launches in; the first one is named in the RunInstances dry run.</param>
/// <param name="InstanceType">The type the RunInstances dry run asks for (any the template's image runs).</param>
/// <param name="InterruptionQueue">The SQS queue of interruption events; null: no SQS check.</param>
/// <param name="ManagedBy">The installation's <c>spotwise:managed-by</c> tag value.</param>
public sealed record PermissionCheckRequest(
    string LaunchTemplateId, IReadOnlyList<string> Subnets, string InstanceType, Uri? InterruptionQueue, string ManagedBy = "spotwise");
