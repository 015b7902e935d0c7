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
}
