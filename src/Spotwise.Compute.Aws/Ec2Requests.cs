using Amazon.EC2.Model;

namespace Spotwise.Compute.Aws;

/// <summary>A RunInstances or CreateFleet request, or the instance EC2 made for one, in one line: what an IdempotentParameterMismatch compares.</summary>
internal static class Ec2Requests
{
    public static string Describe(RunInstancesRequest run) =>
        $"{run.InstanceType?.Value} in subnet {run.SubnetId} from template {run.LaunchTemplate?.LaunchTemplateId}, "
        + $"{run.InstanceMarketOptions?.MarketType?.Value ?? "on-demand"}, tags [{Tags(run.TagSpecifications?.FirstOrDefault()?.Tags)}]";

    public static string Describe(CreateFleetRequest fleet) =>
        $"instant fleet of {fleet.LaunchTemplateConfigs[0].Overrides[0].InstanceType?.Value} in subnets "
        + $"{string.Join(",", fleet.LaunchTemplateConfigs[0].Overrides.Select(o => o.SubnetId))} from template "
        + $"{fleet.LaunchTemplateConfigs[0].LaunchTemplateSpecification.LaunchTemplateId ?? fleet.LaunchTemplateConfigs[0].LaunchTemplateSpecification.LaunchTemplateName}, "
        + $"{fleet.TargetCapacitySpecification.DefaultTargetCapacityType?.Value}, tags [{Tags(fleet.TagSpecifications?.FirstOrDefault()?.Tags)}]";

    public static string Describe(Instance instance) =>
        $"{instance.InstanceId}: {instance.InstanceType?.Value} in subnet {instance.SubnetId}, {instance.InstanceLifecycle?.Value ?? "on-demand"}, "
        + $"launched {instance.LaunchTime:u}, tags [{Tags(instance.Tags)}]";

    private static string Tags(List<Tag>? tags) => string.Join(", ", (tags ?? []).Select(t => $"{t.Key}={t.Value}"));
}
