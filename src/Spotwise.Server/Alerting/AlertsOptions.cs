using Microsoft.Extensions.Options;
using Spotwise.Core;
using Spotwise.Runtime.Alerting;

namespace Spotwise.Server.Alerting;

/// <summary>
/// Where alerts go and when they are raised: the <c>Spotwise:Alerts</c> section (docs/teams.md#alerts). Each webhook's
/// secret comes from the environment, never from a file in git: <see cref="WebhookOptions.SecretEnv"/> names the
/// variable, or <see cref="WebhookOptions.Secret"/> is set through one (<c>Spotwise__Alerts__Webhooks__0__Secret</c>).
/// </summary>
public sealed class AlertsOptions
{
    public const string Section = "Spotwise:Alerts";

    public List<WebhookOptions> Webhooks { get; set; } = [];

    /// <summary>A job's interruptions that raise an alert (once, when reached).</summary>
    public int RepeatedInterruptions { get; set; } = AlertRules.Default.RepeatedInterruptions;

    /// <summary>Alerts each webhook holds waiting for delivery; past it new alerts are dropped (counted, logged), never waited for.</summary>
    public int QueueCapacity { get; set; } = 1_000;

    /// <summary>Tries per alert and webhook, the first included; a 5xx, 408, 429 or no answer is tried again.</summary>
    public int MaxAttempts { get; set; } = 5;

    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long one POST may take before it counts as failed (and is tried again).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public RetryPolicy Retry => new(MaxAttempts, RetryBaseDelay, RetryMaxDelay);

    public AlertRules Rules => AlertRules.Default with { RepeatedInterruptions = RepeatedInterruptions };
}

/// <summary>One webhook: where, in which body (<c>slack</c> or <c>json</c>), signed with which secret.</summary>
public sealed class WebhookOptions
{
    public const string Slack = "slack";
    public const string Json = "json";

    public string? Url { get; set; }

    public string Format { get; set; } = Json;

    /// <summary>The environment variable holding the signing secret.</summary>
    public string? SecretEnv { get; set; }

    /// <summary>The signing secret itself, for configuration that comes from the environment.</summary>
    public string? Secret { get; set; }

    /// <summary>The secret, from <see cref="Secret"/> or the variable <see cref="SecretEnv"/> names (read through <paramref name="env"/>).</summary>
    public string? ResolveSecret(Func<string, string?> env) => Secret is { Length: > 0 } own ? own
        : SecretEnv is { Length: > 0 } name ? env(name) : null;
}

/// <summary>Checks <c>Spotwise:Alerts</c> at start, naming the webhook and the field; <paramref name="env"/> reads a secret's variable.</summary>
public sealed class AlertsOptionsValidator(Func<string, string?> env) : IValidateOptions<AlertsOptions>
{
    public ValidateOptionsResult Validate(string? name, AlertsOptions options)
    {
        var errors = new List<string>();
        for (var i = 0; i < options.Webhooks.Count; i++)
        {
            errors.AddRange(Problems(options.Webhooks[i], $"{AlertsOptions.Section}:Webhooks:{i}"));
        }
        if (options.RepeatedInterruptions < 1)
        {
            errors.Add($"{AlertsOptions.Section}:RepeatedInterruptions is {options.RepeatedInterruptions}; it must be >= 1");
        }
        if (options.QueueCapacity < 1)
        {
            errors.Add($"{AlertsOptions.Section}:QueueCapacity is {options.QueueCapacity}; it must be >= 1");
        }
        if (options.MaxAttempts is < 1 or > 20)
        {
            errors.Add($"{AlertsOptions.Section}:MaxAttempts is {options.MaxAttempts}; it must be between 1 and 20");
        }
        if (options.RetryBaseDelay <= TimeSpan.Zero || options.RetryMaxDelay < options.RetryBaseDelay)
        {
            errors.Add($"{AlertsOptions.Section}:RetryBaseDelay is {options.RetryBaseDelay} and RetryMaxDelay {options.RetryMaxDelay}; the base must be > 0 and the cap no smaller");
        }
        if (options.RequestTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{AlertsOptions.Section}:RequestTimeout is {options.RequestTimeout}; it must be > 0");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private IEnumerable<string> Problems(WebhookOptions hook, string at)
    {
        if (!Uri.TryCreate(hook.Url, UriKind.Absolute, out var url) || url.Scheme is not ("https" or "http"))
        {
            yield return $"{at}:Url is '{hook.Url}'; give an absolute http(s) URL";
        }
        if (hook.Format is not (WebhookOptions.Slack or WebhookOptions.Json))
        {
            yield return $"{at}:Format is '{hook.Format}'; use '{WebhookOptions.Slack}' or '{WebhookOptions.Json}'";
        }
        if (hook.Secret is { Length: > 0 } && hook.SecretEnv is { Length: > 0 })
        {
            yield return $"{at} sets both Secret and SecretEnv; set one";
        }
        else if (hook.ResolveSecret(env) is not { Length: > 0 })
        {
            yield return hook.SecretEnv is { Length: > 0 } name
                ? $"{at}:SecretEnv names '{name}', which is not set or empty; every POST is signed, so set it in the environment"
                : $"{at} has no secret; set SecretEnv to the environment variable that holds it";
        }
    }
}
