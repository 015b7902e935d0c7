using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;

namespace Spotwise.Server;

/// <summary>
/// Request body limits on every endpoint. An endpoint takes at most <see cref="FormBytes"/> (the sign-in and dashboard
/// forms, and anything else that has no reason for more) unless it carries an <see cref="IRequestSizeLimitMetadata"/>
/// (the API: <see cref="JobInput.MaxBodyBytes"/>, which is also Kestrel's global limit, <see cref="MaxBytes"/>). A larger
/// body is 413 with ProblemDetails, never a 500: at once when Content-Length says so, else when reading passes the limit.
/// </summary>
/// <remarks>
/// The app holds the limit itself, not only Kestrel: the in-memory TestServer the tests run on enforces none, and
/// Kestrel's is one number for every endpoint.
/// </remarks>
public static class BodyLimits
{
    public const long FormBytes = 16 * 1024;

    /// <summary>The largest body any endpoint takes: Kestrel's global limit.</summary>
    public const long MaxBytes = JobInput.MaxBodyBytes;

    /// <summary>Form reading limits: a form holds a handful of short fields.</summary>
    public static void Forms(FormOptions form)
    {
        form.ValueLengthLimit = (int)FormBytes;
        form.KeyLengthLimit = 256;
        form.ValueCountLimit = 64;
        form.MultipartBodyLengthLimit = FormBytes;
        form.BufferBodyLengthLimit = FormBytes;
    }

    public static IApplicationBuilder UseBodyLimits(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var limit = LimitOf(context.GetEndpoint());
        if (context.Request.ContentLength > limit)
        {
            await TooLarge(limit).ExecuteAsync(context);
            return;
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } server)
        {
            server.MaxRequestBodySize = limit;
        }
        context.Request.Body = new LimitedBody(context.Request.Body, limit);
        try
        {
            await next(context);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge && !context.Response.HasStarted)
        {
            // A body without Content-Length (chunked) that grew past the limit while a handler read it.
            context.Response.Clear();
            await TooLarge(limit).ExecuteAsync(context);
        }
    });

    /// <summary>The most an endpoint takes: its own limit, else <see cref="FormBytes"/>.</summary>
    public static long LimitOf(Endpoint? endpoint) => endpoint?.Metadata.GetMetadata<IRequestSizeLimitMetadata>() is { } metadata
        ? Math.Min(metadata.MaxRequestBodySize ?? MaxBytes, MaxBytes)
        : FormBytes;

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult TooLarge(long limit) => limit == JobInput.MaxBodyBytes
        ? JobInput.TooLarge()
        : TypedResults.Problem(
            statusCode: StatusCodes.Status413PayloadTooLarge,
            title: "Request body too large",
            detail: $"the body is larger than {limit / 1024} KiB, the most this endpoint takes");

    /// <summary>The request body, refusing (as Kestrel does: 413) to be read past the limit.</summary>
    private sealed class LimitedBody(Stream inner, long limit) : Stream
    {
        private long _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override int Read(Span<byte> buffer) => Count(inner.Read(buffer));

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Count(await inner.ReadAsync(buffer.AsMemory(offset, count), cancellationToken));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Count(int read)
        {
            _read += read;
            if (_read > limit)
            {
                throw new BadHttpRequestException($"the request body is larger than {limit} bytes", StatusCodes.Status413PayloadTooLarge);
            }
            return read;
        }
    }
}
