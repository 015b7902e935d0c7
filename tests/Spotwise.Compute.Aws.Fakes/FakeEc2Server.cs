using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Spotwise.Compute.Aws.Fakes;

/// <summary>
/// A loopback EC2 endpoint speaking the EC2 Query API, for the real <c>AmazonEC2Client</c> to talk to: form-encoded
/// POSTs with <c>Action=...</c>, XML answers in the <c>http://ec2.amazonaws.com/doc/2016-11-15/</c> namespace, errors as
/// <c>&lt;Response&gt;&lt;Errors&gt;&lt;Error&gt;&lt;Code&gt;</c>. Shapes follow the EC2 API reference
/// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RunInstances.html, API_DescribeInstances.html,
/// API_TerminateInstances.html, Query-requests.html, errors-overview.html), in the spirit of Karpenter's
/// pkg/fake/ec2api.go. Supported: RunInstances and CreateFleet of type instant (FakeEc2Server.Fleets.cs) with ClientToken semantics, DescribeInstances with tag filters and
/// paging, TerminateInstances, capacity errors injected per (zone, type), throttling, quota and permission errors
/// (FakeEc2Server.Errors.cs). Time is the test's clock.
/// </summary>
public sealed partial class FakeEc2Server : IAsyncDisposable
{
    public const string Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/";
    private static readonly XNamespace Ns = Namespace;

    private readonly WebApplication _app;
    private readonly TimeProvider _time;
    private readonly IReadOnlyDictionary<string, string> _zoneBySubnet;
    private readonly Lock _lock = new();
    private readonly List<FakeEc2Instance> _instances = [];
    private readonly Dictionary<string, FakeEc2Instance> _byToken = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Zone, string Type), (string Code, bool SpotOnly)> _capacityErrors = [];

    private FakeEc2Server(WebApplication app, TimeProvider time, IReadOnlyDictionary<string, string> zoneBySubnet, string? region)
    {
        _app = app;
        _time = time;
        _zoneBySubnet = zoneBySubnet;
        Region = region;
        // Instance ids are unique across regions on EC2: each region's fake numbers its instances in a range of its own.
        _idBase = region is null ? 0 : (long)(Fnv(region) & 0xFFFFF) << 40;
    }

    private readonly long _idBase;

    /// <summary>
    /// The region this endpoint is (EC2 is one endpoint per region: ec2.us-east-1.amazonaws.com); null answers requests
    /// signed for any region. Set, a request whose SigV4 credential scope names another region is refused as EC2 refuses
    /// it (401 <c>AuthFailure</c>), so a test sees a client sent to the wrong region's endpoint.
    /// </summary>
    public string? Region { get; }

    public Uri BaseUri { get; private set; } = null!;

    /// <summary>How long an instance stays pending.</summary>
    public TimeSpan Boot { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the agent's command runs before the instance shuts itself down.</summary>
    public TimeSpan Run { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Every call's Action, in order (a test counts retries with it).</summary>
    public ConcurrentQueue<string> Actions { get; } = new();

    /// <summary>Starts the endpoint of <paramref name="region"/> (null: any region's) holding the subnets <paramref name="zoneBySubnet"/>.</summary>
    public static async Task<FakeEc2Server> StartAsync(TimeProvider time, IReadOnlyDictionary<string, string> zoneBySubnet, string? region = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FakeEc2Server(app, time, zoneBySubnet, region);
        app.MapPost("/", (Delegate)server.HandleAsync);
        await app.StartAsync();
        server.BaseUri = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return server;
    }

    /// <summary>From now on RunInstances of <paramref name="instanceType"/> in <paramref name="zone"/> fails with <paramref name="code"/>.</summary>
    /// <param name="zone">The availability zone.</param>
    /// <param name="instanceType">The instance type.</param>
    /// <param name="code">The capacity error EC2 answers.</param>
    /// <param name="spotOnly">Only spot launches are refused: the zone's spot pool is empty, its on-demand capacity is not.</param>
    public void RefuseCapacity(string zone, string instanceType, string code = "InsufficientInstanceCapacity", bool spotOnly = false)
    {
        lock (_lock)
        {
            _capacityErrors[(zone, instanceType)] = (code, spotOnly);
        }
    }

    /// <summary>EC2 takes a spot instance back (state reason Server.SpotInstanceTermination).</summary>
    public void Interrupt(string instanceId)
    {
        lock (_lock)
        {
            _instances.Single(i => i.Id == instanceId).Interrupt(_time.GetUtcNow());
        }
    }

    public int InstanceCount
    {
        get
        {
            lock (_lock)
            {
                return _instances.Count;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task<IResult> HandleAsync(HttpContext context)
    {
        var form = await context.Request.ReadFormAsync();
        var query = form.ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.Ordinal);
        var action = query.GetValueOrDefault("Action") ?? "";
        Actions.Enqueue(action);
        if (SignedElsewhere(context.Request.Headers.Authorization.ToString()) is { } scope)
        {
            return Xml(401, ErrorDocument(new Ec2Error(401, "AuthFailure", $"Credential should be scoped to a valid region, not '{scope}'. ")));
        }
        if (AuthorizeOrDryRun(action, query) is { } answer)
        {
            return answer;
        }
        try
        {
            lock (_lock)
            {
                ThrowInjectedError(action, query);
                var body = action switch
                {
                    "RunInstances" => RunInstances(query),
                    "CreateFleet" => CreateFleet(query),
                    "DescribeInstances" => DescribeInstances(query),
                    "TerminateInstances" => TerminateInstances(query),
                    "DescribeSubnets" => DescribeSubnets(query),
                    "DescribeSpotPriceHistory" => DescribeSpotPriceHistory(query),
                    "DescribeInstanceTypeOfferings" => DescribeInstanceTypeOfferings(query),
                    _ => throw new Ec2Error(400, "InvalidAction", $"The action {action} is not valid for this web service."),
                };
                return Xml(200, body);
            }
        }
        catch (Ec2Error e)
        {
            return Xml(e.Status, ErrorDocument(e));
        }
    }

    /// <summary>The region a request was signed for when it is not this endpoint's (<c>Credential=AKID/20260302/us-west-2/ec2/aws4_request</c>).</summary>
    private string? SignedElsewhere(string authorization)
    {
        var scope = SigningRegion().Match(authorization);
        return Region is not null && scope.Success && scope.Groups[1].Value != Region ? scope.Groups[1].Value : null;
    }

    [GeneratedRegex(@"Credential=[^/]+/\d{8}/([^/]+)/")]
    private static partial Regex SigningRegion();

    private static uint Fnv(string text)
    {
        var hash = 2166136261;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 16777619;
        }
        return hash;
    }

    private XElement RunInstances(Dictionary<string, string> q)
    {
        var type = Required(q, "InstanceType");
        var subnet = Required(q, "SubnetId");
        if (!_zoneBySubnet.TryGetValue(subnet, out var zone))
        {
            throw new Ec2Error(400, "InvalidSubnetID.NotFound", $"The subnet ID '{subnet}' does not exist");
        }
        if (Required(q, "MinCount") != "1" || Required(q, "MaxCount") != "1")
        {
            throw new Ec2Error(400, "InvalidParameterValue", "this fake launches one instance per call");
        }
        if (!q.ContainsKey("LaunchTemplate.LaunchTemplateName"))
        {
            Required(q, "LaunchTemplate.LaunchTemplateId");
        }
        var token = q.GetValueOrDefault("ClientToken");
        var fingerprint = string.Join("&", q.Where(p => p.Key != "Version").OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
        if (token is not null && _byToken.TryGetValue(token, out var existing))
        {
            return existing.Fingerprint == fingerprint
                ? Reservation("RunInstancesResponse", existing)
                : throw new Ec2Error(400, "IdempotentParameterMismatch",
                    $"The client token '{token}' has already been used with a different request.");
        }
        if (_capacityErrors.TryGetValue((zone, type), out var refusal) && (!refusal.SpotOnly || IsSpot(q)))
        {
            var code = refusal.Code;
            // A server error in EC2's own classification (errors-overview.html): the SDK retries it before giving up.
            throw new Ec2Error(500, code, $"We currently do not have sufficient {type} capacity in the Availability Zone you requested ({zone}).");
        }

        var instance = Launch(token ?? "", fingerprint, type, zone, subnet, IsSpot(q), InstanceTags(q));
        if (token is not null)
        {
            _byToken.Add(token, instance);
        }
        return Reservation("RunInstancesResponse", instance);
    }

    /// <summary>A new instance, numbered in this region's range, pending from now on the test's clock.</summary>
    private FakeEc2Instance Launch(string token, string fingerprint, string type, string zone, string subnet, bool spot,
        List<KeyValuePair<string, string>> tags)
    {
        var instance = new FakeEc2Instance(string.Create(CultureInfo.InvariantCulture, $"i-{_idBase + _instances.Count + 1:x17}"), token, fingerprint,
            type, zone, subnet, spot, tags, _time.GetUtcNow(), Boot, Run);
        _instances.Add(instance);
        return instance;
    }

    private static bool IsSpot(Dictionary<string, string> q) => q.GetValueOrDefault("InstanceMarketOptions.MarketType") == "spot";

    private XElement DescribeInstances(Dictionary<string, string> q)
    {
        var maxResults = q.TryGetValue("MaxResults", out var m) ? int.Parse(m, CultureInfo.InvariantCulture) : 1000;
        if (maxResults is < 5 or > 1000)
        {
            throw new Ec2Error(400, "InvalidParameterValue", $"Value ( {maxResults} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.");
        }
        var start = q.TryGetValue("NextToken", out var next) ? int.Parse(next, CultureInfo.InvariantCulture) : 0;
        var filters = Filters(q);
        var matching = _instances.Where(i => filters.All(f => Matches(i, f.Name, f.Values))).ToList();
        var page = matching.Skip(start).Take(maxResults).ToList();
        var response = new XElement(Ns + "DescribeInstancesResponse",
            new XElement(Ns + "requestId", Guid.NewGuid()),
            new XElement(Ns + "reservationSet", page.Select(i => new XElement(Ns + "item", ReservationContent(i)))));
        if (start + page.Count < matching.Count)
        {
            response.Add(new XElement(Ns + "nextToken", (start + page.Count).ToString(CultureInfo.InvariantCulture)));
        }
        return response;
    }

    private XElement TerminateInstances(Dictionary<string, string> q)
    {
        var ids = Indexed(q, "InstanceId.");
        var now = _time.GetUtcNow();
        var found = new List<(FakeEc2Instance Instance, string Before)>();
        foreach (var id in ids)
        {
            var instance = _instances.SingleOrDefault(i => i.Id == id)
                ?? throw (InstanceIdPattern().IsMatch(id)
                    ? new Ec2Error(400, "InvalidInstanceID.NotFound", $"The instance ID '{id}' does not exist")
                    : new Ec2Error(400, "InvalidInstanceID.Malformed", $"Invalid id: \"{id}\""));
            found.Add((instance, instance.StateAt(now)));
        }
        foreach (var (instance, _) in found)
        {
            instance.Terminate(now);
        }
        return new XElement(Ns + "TerminateInstancesResponse",
            new XElement(Ns + "requestId", Guid.NewGuid()),
            new XElement(Ns + "instancesSet", found.Select(f => new XElement(Ns + "item",
                new XElement(Ns + "instanceId", f.Instance.Id),
                State("currentState", f.Before == "terminated" ? "terminated" : "shutting-down"),
                State("previousState", f.Before)))));
    }

    private XElement Reservation(string root, FakeEc2Instance instance) =>
        new(Ns + root, new XElement(Ns + "requestId", Guid.NewGuid()), ReservationContent(instance));

    private object[] ReservationContent(FakeEc2Instance i) =>
    [
        new XElement(Ns + "reservationId", $"r-{i.Id[2..]}"),
        new XElement(Ns + "ownerId", "123456789012"),
        new XElement(Ns + "groupSet"),
        new XElement(Ns + "instancesSet", new XElement(Ns + "item", InstanceContent(i))),
    ];

    private object[] InstanceContent(FakeEc2Instance i)
    {
        var now = _time.GetUtcNow();
        var end = i.EndOf(now);
        var content = new List<object>
        {
            new XElement(Ns + "instanceId", i.Id),
            new XElement(Ns + "imageId", "ami-0123456789abcdef0"),
            State("instanceState", i.StateAt(now)),
            new XElement(Ns + "privateDnsName", ""),
            new XElement(Ns + "reason", end?.Transition ?? ""),
            new XElement(Ns + "amiLaunchIndex", 0),
            new XElement(Ns + "instanceType", i.InstanceType),
            new XElement(Ns + "launchTime", i.LaunchedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)),
            new XElement(Ns + "placement", new XElement(Ns + "availabilityZone", i.Zone), new XElement(Ns + "groupName"), new XElement(Ns + "tenancy", "default")),
            new XElement(Ns + "subnetId", i.Subnet),
            new XElement(Ns + "clientToken", i.ClientToken),
            new XElement(Ns + "tagSet", i.Tags.Select(t => new XElement(Ns + "item", new XElement(Ns + "key", t.Key), new XElement(Ns + "value", t.Value)))),
        };
        if (i.Spot)
        {
            content.Add(new XElement(Ns + "instanceLifecycle", "spot"));
        }
        if (end is { } e)
        {
            content.Add(new XElement(Ns + "stateReason", new XElement(Ns + "code", e.Code), new XElement(Ns + "message", e.Message)));
        }
        return [.. content];
    }

    /// <summary>EC2's state codes (API_InstanceState.html): the low byte is the state.</summary>
    private static XElement State(string name, string state) => new(Ns + name,
        new XElement(Ns + "code", state switch
        {
            "pending" => 0,
            "running" => 16,
            "shutting-down" => 32,
            "terminated" => 48,
            "stopping" => 64,
            _ => 80,
        }),
        new XElement(Ns + "name", state));

    /// <summary>The tags of the TagSpecification whose ResourceType is instance (volumes get theirs; this fake keeps none).</summary>
    private static List<KeyValuePair<string, string>> InstanceTags(Dictionary<string, string> q)
    {
        for (var n = 1; q.TryGetValue($"TagSpecification.{n}.ResourceType", out var resource); n++)
        {
            if (resource == "instance")
            {
                var tags = new List<KeyValuePair<string, string>>();
                for (var t = 1; q.TryGetValue($"TagSpecification.{n}.Tag.{t}.Key", out var key); t++)
                {
                    tags.Add(new(key, q.GetValueOrDefault($"TagSpecification.{n}.Tag.{t}.Value") ?? ""));
                }
                return tags;
            }
        }
        return [];
    }

    /// <summary>The request's filters; a name <paramref name="known"/> refuses (default: DescribeInstances' filters) is EC2's error.</summary>
    private static List<(string Name, List<string> Values)> Filters(Dictionary<string, string> q, Func<string, bool>? known = null)
    {
        known ??= name => name.StartsWith("tag:", StringComparison.Ordinal) || name is "instance-state-name" or "client-token";
        var filters = new List<(string, List<string>)>();
        for (var n = 1; q.TryGetValue($"Filter.{n}.Name", out var name); n++)
        {
            if (!known(name))
            {
                throw new Ec2Error(400, "InvalidParameterValue", $"The filter '{name}' is invalid");
            }
            filters.Add((name, Indexed(q, $"Filter.{n}.Value.")));
        }
        return filters;
    }

    private bool Matches(FakeEc2Instance i, string filter, List<string> values) => filter switch
    {
        "instance-state-name" => values.Contains(i.StateAt(_time.GetUtcNow())),
        "client-token" => values.Contains(i.ClientToken),
        _ => i.Tags.Any(t => t.Key == filter[4..] && values.Contains(t.Value)),
    };

    private static List<string> Indexed(Dictionary<string, string> q, string prefix)
    {
        var values = new List<string>();
        for (var n = 1; q.TryGetValue(prefix + n.ToString(CultureInfo.InvariantCulture), out var v); n++)
        {
            values.Add(v);
        }
        return values;
    }

    private static string Required(Dictionary<string, string> q, string name) =>
        q.GetValueOrDefault(name) ?? throw new Ec2Error(400, "MissingParameter", $"The request must contain the parameter {name}");

    /// <summary>The EC2 error format (errors-overview.html): no namespace, a request id beside the errors.</summary>
    private static XElement ErrorDocument(Ec2Error e) => new("Response",
        new XElement("Errors", new XElement("Error", new XElement("Code", e.Code), new XElement("Message", e.Message))),
        new XElement("RequestID", Guid.NewGuid()));

    private static IResult Xml(int status, XElement body) =>
        Results.Text(new XDeclaration("1.0", "UTF-8", null) + body.ToString(SaveOptions.DisableFormatting), "text/xml;charset=UTF-8", statusCode: status);

    [GeneratedRegex("^i-[0-9a-f]{8,17}$")]
    private static partial Regex InstanceIdPattern();

    private sealed class Ec2Error(int status, string code, string message) : Exception(message)
    {
        public int Status { get; } = status;
        public string Code { get; } = code;
    }
}
