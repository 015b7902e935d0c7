using Microsoft.AspNetCore.Http;

namespace Spotwise.Compute.Aws.Fakes;

/// <summary>
/// Permissions and DryRun, as the EC2 API reference describes the common <c>DryRun</c> parameter
/// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/CommonParameters.html): "Checks whether you have the required
/// permissions for the operation, without actually making the request, and provides an error response. If you have the
/// required permissions, the error response is DryRunOperation. Otherwise, it is UnauthorizedOperation." Codes and
/// messages as errors-overview.html lists them, with the status codes EC2 answers them with (412 and 403). Every action is
/// allowed until a test denies it (Deny, FakeEc2Server.Errors.cs); a denied action is refused whether or not DryRun is set. Parameters are not
/// validated before the DryRun answer, so any action answers a dry run, implemented here or not.
/// </summary>
public sealed partial class FakeEc2Server
{
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
            return Xml(403, ErrorDocument(Unauthorized(action)));
        }
        return string.Equals(query.GetValueOrDefault("DryRun"), "true", StringComparison.OrdinalIgnoreCase)
            ? Xml(412, ErrorDocument(new Ec2Error(412, "DryRunOperation", "Request would have succeeded, but DryRun flag is set.")))
            : null;
    }
}
