using Microsoft.AspNetCore.Http;

namespace Spotwise.Compute.Aws.Fakes;

/// <summary>
/// Permissions and DryRun, as the EC2 API reference describes the common <c>DryRun</c> parameter
/// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/CommonParameters.html): "Checks whether you have the required
/// permissions for the operation, without actually making the request, and provides an error response. If you have the
/// required permissions, the error response is DryRunOperation. Otherwise, it is UnauthorizedOperation." Codes and
/// messages as errors-overview.html lists them, with the status codes EC2 answers them with (412 and 403). Every action is
/// allowed until a test denies it; a denied action is refused whether or not DryRun is set. Parameters are not
/// validated before the DryRun answer, so any action answers a dry run, implemented here or not.
/// </summary>
public sealed partial class FakeEc2Server
{
    private readonly HashSet<string> _denied = new(StringComparer.Ordinal);

    /// <summary>From now on the caller's policy does not allow <paramref name="action"/> (an EC2 action name: RunInstances).</summary>
    public void Deny(string action)
    {
        lock (_lock)
        {
            _denied.Add(action);
        }
    }

    /// <summary>The answer before any action runs: UnauthorizedOperation when denied, DryRunOperation for an allowed dry run, else null.</summary>
    private IResult? AuthorizeOrDryRun(string action, Dictionary<string, string> query)
    {
        bool denied;
        lock (_lock)
        {
            denied = _denied.Contains(action);
        }
        if (denied)
        {
            // EC2 appends an encoded authorization message that `aws sts decode-authorization-message` reads.
            return Xml(403, ErrorDocument(new Ec2Error(403, "UnauthorizedOperation",
                $"You are not authorized to perform this operation. User: arn:aws:iam::123456789012:user/spotwise is not authorized to perform: ec2:{action} "
                + $"because no identity-based policy allows the ec2:{action} action. Encoded authorization failure message: {Convert.ToBase64String(Guid.NewGuid().ToByteArray())}")));
        }
        return string.Equals(query.GetValueOrDefault("DryRun"), "true", StringComparison.OrdinalIgnoreCase)
            ? Xml(412, ErrorDocument(new Ec2Error(412, "DryRunOperation", "Request would have succeeded, but DryRun flag is set.")))
            : null;
    }
}
