namespace Spotwise.Core.Tests;

public class ResourceRequestTests
{
    private static List<InstanceType> Resolve(ResourceRequest request) =>
        [.. TestData.Catalog.Entries.Select(e => e.Type).Where(request.IsSatisfiedBy)];

    public static TheoryData<string> PresetNames => [.. ResourceClasses.Presets.Keys.Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(PresetNames))]
    public void Every_preset_resolves_to_catalog_types_that_meet_its_needs(string name)
    {
        var preset = ResourceClasses.Presets[name];

        var types = Resolve(preset);

        Assert.NotEmpty(types);
        Assert.All(types, t => Assert.True(t.Vcpus >= preset.MinVcpus && t.MemoryGiB >= preset.MinMemoryGiB && t.Gpus >= preset.MinGpus, t.Name));
        Assert.Equal(name, preset.ClassName);
        Assert.Equal(name, preset.Describe());
    }

    [Fact]
    public void The_presets_are_the_five_documented_classes() =>
        Assert.Equal(["cpu_large", "cpu_medium", "cpu_small", "gpu_large", "gpu_medium"], ResourceClasses.Presets.Keys.Order(StringComparer.Ordinal));

    [Fact]
    public void Gpu_large_never_resolves_to_a_T4_L4_or_K80_type()
    {
        var types = Resolve(TestData.Class("gpu_large"));

        Assert.Contains(types, t => t.Name == "p3.2xlarge");
        Assert.All(types, t => Assert.False(t.GpuModel is "T4" or "L4" or "K80", $"{t.Name} has a {t.GpuModel}"));
        Assert.All(types, t => Assert.True(t.Gpus >= 1, t.Name));
    }

    [Fact]
    public void Gpu_medium_resolves_only_to_T4_A10G_and_L4_types()
    {
        var models = Resolve(TestData.Class("gpu_medium")).Select(t => t.GpuModel).Distinct().Order(StringComparer.Ordinal);

        Assert.Equal(["A10G", "L4", "T4"], models);
    }

    [Fact]
    public void Cpu_classes_do_not_exclude_gpu_machines_but_need_no_gpu()
    {
        Assert.Equal(0, TestData.Class("cpu_small").MinGpus);
        Assert.Contains(Resolve(TestData.Class("cpu_small")), t => t.Name == "m5.large");
        Assert.DoesNotContain(Resolve(TestData.Class("cpu_small")), t => t.Vcpus < 2 || t.MemoryGiB < 4);
    }

    [Fact]
    public void Explicit_needs_with_a_gpu_model_resolve_to_types_with_that_model_only()
    {
        var request = new ResourceRequest { MinVcpus = 4, MinMemoryGiB = 16, MinGpus = 1, GpuModels = ["a100"] };

        var types = Resolve(request);

        Assert.NotEmpty(types);
        Assert.All(types, t => Assert.Equal("A100", t.GpuModel));
        Assert.Equal("4vCPU 16GiB 1xa100", request.Describe());
    }

    [Fact]
    public void A_gpu_model_list_is_ignored_when_no_gpu_is_asked_for()
    {
        var request = new ResourceRequest { MinVcpus = 2, MinMemoryGiB = 4, GpuModels = ["H100"] };

        Assert.True(request.IsSatisfiedBy(new InstanceType("m5.large", 2, 8, 0, null)));
    }

    [Fact]
    public void Explicit_needs_without_gpus_accept_any_type_at_least_that_big()
    {
        var request = new ResourceRequest { MinVcpus = 8, MinMemoryGiB = 32 };

        Assert.True(request.IsSatisfiedBy(new InstanceType("m5.2xlarge", 8, 32, 0, null)));
        Assert.False(request.IsSatisfiedBy(new InstanceType("c5.2xlarge", 8, 16, 0, null)));
        Assert.False(request.IsSatisfiedBy(new InstanceType("m5.xlarge", 4, 64, 0, null)));
    }

    [Fact]
    public void An_instance_type_list_resolves_to_exactly_those_types()
    {
        var request = ResourceRequest.ForInstanceTypes(["p3.2xlarge", "g5.xlarge"]);

        var names = Resolve(request).Select(t => t.Name).Order(StringComparer.Ordinal);

        Assert.Equal(["g5.xlarge", "p3.2xlarge"], names);
        Assert.Equal("p3.2xlarge|g5.xlarge", request.Describe());
    }

    [Fact]
    public void An_instance_type_list_ignores_sizes_and_matches_names_exactly()
    {
        var request = ResourceRequest.ForInstanceTypes(["t3.nano"]) with { MinVcpus = 64 };

        Assert.True(request.IsSatisfiedBy(new InstanceType("t3.nano", 2, 0.5, 0, null)));
        Assert.False(request.IsSatisfiedBy(new InstanceType("T3.nano", 2, 0.5, 0, null)));
    }
}
