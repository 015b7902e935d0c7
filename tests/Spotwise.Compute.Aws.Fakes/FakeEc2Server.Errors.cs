using System.Security.Cryptography;

namespace Spotwise.Compute.Aws.Fakes;

/// <summary>
/// Errors the loopback EC2 can be told to answer, in the EC2 error format (errors-overview.html), before any action runs:
/// throttling (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html: <c>RequestLimitExceeded</c>,
/// HTTP 503), quotas (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html: <c>VcpuLimitExceeded</c>,
/// <c>MaxSpotInstanceCountExceeded</c>, <c>InstanceLimitExceeded</c>, HTTP 400), and a missing permission
/// (<c>UnauthorizedOperation</c>, HTTP 403, with an encoded authorization failure message as
/// https://docs.aws.amazon.com/STS/latest/APIReference/API_DecodeAuthorizationMessage.html describes).
/// </summary>
public sealed partial class FakeEc2Server
{
    private readonly Dictionary<string, int> _throttled = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _quotaByType = new(StringComparer.Ordinal);
    private readonly HashSet<string> _denied = new(StringComparer.Ordinal);

    /// <summary>The next <paramref name="calls"/> calls of <paramref name="action"/> answer 503 RequestLimitExceeded.</summary>
    public void Throttle(string action, int calls)
    {
        lock (_lock)
        {
            _throttled[action] = calls;
        }
    }

    /// <summary>From now on RunInstances of <paramref name="instanceType"/> fails with the quota error <paramref name="code"/>.</summary>
    public void RefuseQuota(string instanceType, string code = "VcpuLimitExceeded")
    {
        lock (_lock)
        {
            _quotaByType[instanceType] = code;
        }
    }

    /// <summary>From now on <paramref name="action"/> is not allowed (403 UnauthorizedOperation), until <see cref="Allow"/>.</summary>
    public void Deny(string action)
    {
        lock (_lock)
        {
            _denied.Add(action);
        }
    }

    public void Allow(string action)
    {
        lock (_lock)
        {
            _denied.Remove(action);
        }
    }

    /// <summary>Throws the error a test injected for this call, if any (called under the lock, before the action runs).</summary>
    private void ThrowInjectedError(string action, Dictionary<string, string> q)
    {
        if (_denied.Contains(action))
        {
            // The real message is encrypted for sts:DecodeAuthorizationMessage; this one is random bytes of that look.
            throw new Ec2Error(403, "UnauthorizedOperation",
                "You are not authorized to perform this operation. Encoded authorization failure message: " + Convert.ToBase64String(RandomNumberGenerator.GetBytes(96)));
        }
        if (_throttled.TryGetValue(action, out var left) && left > 0)
        {
            _throttled[action] = left - 1;
            throw new Ec2Error(503, "RequestLimitExceeded", "Request limit exceeded.");
        }
        if (action == "RunInstances" && q.TryGetValue("InstanceType", out var type) && _quotaByType.TryGetValue(type, out var code))
        {
            throw new Ec2Error(400, code, code == "MaxSpotInstanceCountExceeded"
                ? "Max spot instance count exceeded"
                : "You have requested more vCPU capacity than your current vCPU limit of 0 allows for the instance bucket that the specified instance type belongs to. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.");
        }
    }
}
