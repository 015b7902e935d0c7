using Amazon.EC2.Model;

namespace Spotwise.Compute.Aws;

/// <summary>
/// The launch template a launch names: <c>--launch-template</c> is an id (<c>lt-...</c>) or a name. A template is a
/// regional resource, so an id names one region's; with several regions the same name is created in each, and the name
/// is what is sent (<c>LaunchTemplate.LaunchTemplateName</c>).
/// </summary>
public static class Ec2LaunchTemplates
{
    /// <summary>True for a template id (<c>lt-0abc...</c>), false for a name.</summary>
    public static bool IsId(string template) => template?.StartsWith("lt-", StringComparison.Ordinal) == true;

    public static LaunchTemplateSpecification For(string template) =>
        IsId(template) ? new LaunchTemplateSpecification { LaunchTemplateId = template } : new LaunchTemplateSpecification { LaunchTemplateName = template };

    /// <summary>
    /// The same template for CreateFleet, whose launch template needs a version (the request fails without one,
    /// API_FleetLaunchTemplateSpecificationRequest.html): <c>$Default</c>, the one RunInstances takes when none is named.
    /// </summary>
    public static FleetLaunchTemplateSpecificationRequest ForFleet(string template) =>
        IsId(template)
            ? new FleetLaunchTemplateSpecificationRequest { LaunchTemplateId = template, Version = DefaultVersion }
            : new FleetLaunchTemplateSpecificationRequest { LaunchTemplateName = template, Version = DefaultVersion };

    public const string DefaultVersion = "$Default";
}
