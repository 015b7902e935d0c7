using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;

namespace Spotwise.Server;

/// <summary>
/// What <c>/openapi/v1.json</c> says beyond each endpoint's own metadata (docs/server.md#openapi): the title, the tags'
/// descriptions, the two bearer schemes, and which operations need which. An endpoint that requires authorisation needs
/// a team's API key (<see cref="ApiKeyScheme"/>); one that carries <see cref="SecuredBy"/> names its own scheme (the
/// agent's attempt secret); any other is anonymous (<c>/healthz</c>). Each endpoint declares the 4xx its handler answers
/// (<c>.ProducesProblem</c>); the 401 and 429 of the key-authenticated group are declared once, on the group
/// (<see cref="ApiGroupAnswers"/>), since middleware, not a handler, writes them.
/// </summary>
public static class OpenApiDocumentation
{
    public const string DocumentName = "v1";

    /// <summary>A team's API key: <c>Authorization: Bearer KEY</c> (<see cref="ApiKeyAuthenticationHandler"/>).</summary>
    public const string ApiKeyScheme = "apiKey";

    /// <summary>One attempt's secret, which its instance's agent presents (<see cref="AttemptsApi"/>).</summary>
    public const string AttemptScheme = "attemptSecret";

    /// <summary>The tags the endpoints use, each with what it groups.</summary>
    public static IReadOnlyDictionary<string, string> Tags { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["Jobs"] = "Submit, list, read and cancel the key's team's jobs. Job ids are the team's own: another team's job is 404.",
        ["Plan"] = "The latest plan as the key's team may see it, and a preview that plans posted jobs without storing them.",
        ["Market"] = "Prices in force now, and the backend's instances of the key's team's jobs.",
        ["Money"] = "The key's team's spend, expected total, the all-on-demand comparison and spend over time.",
        ["Attempts"] = "What the agent on a cloud instance reports about its attempt. Authenticated by the attempt's own secret, never a team key.",
        ["Health"] = "Whether every backend can act. Anonymous, for probes.",
        ["Budgets"] = "A team's dollar budget per day, week or month: set by the admin key, read by the admin key or the team's own.",
    };

    public static IServiceCollection AddSpotwiseOpenApi(this IServiceCollection services) => services
        // No JSON reaches a handler through the binder (the intake and the agents' endpoint read bytes, StrictJson), and the
        // API writes numbers as numbers: the web default's "a number may be a string" would only make every number in the
        // document "number or string", which the intake refuses.
        .ConfigureHttpJsonOptions(json => json.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict)
        .AddOpenApi(DocumentName, options =>
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            Describe(document);
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            if (SchemeOf(context.Description.ActionDescriptor.EndpointMetadata) is { } scheme)
            {
                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(scheme, context.Document)] = [] });
            }
            return Task.CompletedTask;
        });
    });

    /// <summary>
    /// The answers every endpoint of the key-authenticated group can give before its handler runs: 401 without a valid key
    /// (the authentication handler's challenge) and 429 past the key's rate limit (<see cref="RateLimits"/>).
    /// </summary>
    public static RouteGroupBuilder ApiGroupAnswers(this RouteGroupBuilder group) => group
        .ProducesProblem(StatusCodes.Status401Unauthorized)
        .ProducesProblem(StatusCodes.Status429TooManyRequests);

    /// <summary>The property of <see cref="JobSpec"/> that holds a <see cref="ResourceRequirementsSpec"/>.</summary>
    private const string JobSpecResources = "resourceRequirements";

    /// <summary>
    /// Declares that the endpoint reads jobs as JSON (one <see cref="JobSpec"/>, an array of them, or <c>{"jobs": [...]}</c>),
    /// and the 413 and 415 of reading them. Not <c>.Accepts</c>: that metadata also makes routing refuse another
    /// Content-Type with a bare 415 before the key is checked, where the handler's own 415 says what to send.
    /// </summary>
    public static RouteHandlerBuilder TakesJobs(this RouteHandlerBuilder endpoint) => endpoint
        .AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
        {
            var document = context.Document!;
            if (document.Components?.Schemas?.ContainsKey(nameof(JobSpec)) != true)
            {
                // Both as components, so generated clients name them: the generator inlines a nested type it is asked for.
                document.AddComponent(nameof(ResourceRequirementsSpec), await context.GetOrCreateSchemaAsync(typeof(ResourceRequirementsSpec), null, cancellationToken));
                var spec = (OpenApiSchema)await context.GetOrCreateSchemaAsync(typeof(JobSpec), null, cancellationToken);
                spec.Properties![JobSpecResources] = new OpenApiSchemaReference(nameof(ResourceRequirementsSpec), document);
                document.AddComponent(nameof(JobSpec), spec);
            }
            var job = new OpenApiSchemaReference(nameof(JobSpec), document);
            var jobs = new OpenApiSchema { Type = JsonSchemaType.Array, Items = job, MinItems = 1, MaxItems = JobInput.MaxBatch };
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = $"One job, an array of up to {JobInput.MaxBatch} jobs, or {{\"jobs\": [...]}}.",
                Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
                {
                    [JobsApi.JsonContent] = new()
                    {
                        Schema = new OpenApiSchema
                        {
                            OneOf =
                            [
                                job,
                                jobs,
                                new OpenApiSchema
                                {
                                    Type = JsonSchemaType.Object,
                                    Required = new HashSet<string>(StringComparer.Ordinal) { "jobs" },
                                    Properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal) { ["jobs"] = jobs },
                                },
                            ],
                        },
                    },
                },
            };
        })
        .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
        .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);

    /// <summary>The scheme an endpoint's metadata asks for: its own (<see cref="SecuredBy"/>), a team key when it requires authorisation, else none.</summary>
    public static string? SchemeOf(IList<object> metadata)
    {
        if (metadata.OfType<SecuredBy>().LastOrDefault() is { } own)
        {
            return own.Scheme;
        }
        var authorised = metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any();
        return authorised ? ApiKeyScheme : null;
    }

    private static void Describe(OpenApiDocument document)
    {
        document.Info.Title = "Spotwise API";
        document.Info.Description =
            "Plans and runs batch and ML jobs on the cheapest cloud capacity that still meets every deadline. Each API key belongs "
            + "to one team (SPOTWISE_API_KEYS on the server) and sees only that team's jobs. Errors are RFC 9457 problem details; "
            + "400s name each field by its path (jobs[3].deadline).";
        // Kestrel's address ends with '/', and every path here starts with one: a client joining the two would ask '//api'.
        foreach (var server in document.Servers ?? [])
        {
            server.Url = server.Url?.TrimEnd('/');
        }
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>(StringComparer.Ordinal);
        document.Components.SecuritySchemes[ApiKeyScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "A team's API key as `Authorization: Bearer KEY`. No key or an unknown key is 401.",
        };
        document.Components.SecuritySchemes[AttemptScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "One attempt's secret as `Authorization: Bearer SECRET`, which the instance's user data carries. A team key is 403.",
        };
        // The generator lists the tags the operations use; each gets its description.
        foreach (var tag in document.Tags ?? Enumerable.Empty<OpenApiTag>())
        {
            tag.Description ??= tag.Name is { } name ? Tags.GetValueOrDefault(name) : null;
        }
    }
}

/// <summary>Declares the security scheme an endpoint takes instead of a team key (see <see cref="OpenApiDocumentation"/>).</summary>
public sealed record SecuredBy(string Scheme);
