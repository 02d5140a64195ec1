import type { HttpAdapterHost } from "@nestjs/core";

/**
 * Fastify route config marking a Kallima route: the module's route has it; add it to a route of
 * your own behind a verifying guard with `@RouteConfig(KALLIMA_FASTIFY_ROUTE_CONFIG)` (from
 * `@nestjs/platform-fastify`) so that it, too, accepts `text/plain`, `application/octet-stream`
 * or untyped deliveries.
 *
 * @example
 * ```ts
 * @Post() @RouteConfig(KALLIMA_FASTIFY_ROUTE_CONFIG) @UseGuards(KallimaWebhookGuard)
 * ```
 */
export const KALLIMA_FASTIFY_ROUTE_CONFIG: { readonly kallimaWebhook: true } = {
  kallimaWebhook: true,
};

/** Where `@RouteConfig()` of `@nestjs/platform-fastify` keeps a route's config. */
export const FASTIFY_ROUTE_CONFIG_METADATA = "__fastify_route_config__";

type Done = (error: Error | null, body?: unknown) => void;
interface ParsedRequest {
  rawBody?: unknown;
  is404?: boolean;
  routeOptions?: { config?: { kallimaWebhook?: unknown } };
}
interface FastifyLike {
  initialConfig: { bodyLimit?: number };
  addContentTypeParser(
    type: string,
    options: { parseAs?: "buffer"; bodyLimit?: number },
    parser: (request: ParsedRequest, body: unknown, done: Done) => void,
  ): void;
}

const isKallimaRoute = (request: ParsedRequest) =>
  request.routeOptions?.config?.kallimaWebhook === true;

/** The answer Fastify gives a type it has no parser for (`FST_ERR_CTP_INVALID_MEDIA_TYPE`). */
function unsupportedMediaType(): Error {
  return Object.assign(new Error("Unsupported Media Type"), {
    name: "FastifyError",
    code: "FST_ERR_CTP_INVALID_MEDIA_TYPE",
    statusCode: 415,
  });
}

/** Adds a parser unless the app has its own for that type (or has started): theirs stays. */
function addParser(add: () => void): void {
  try {
    add();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== "FST_ERR_CTP_ALREADY_PRESENT" && code !== "FST_ERR_CTP_INSTANCE_ALREADY_STARTED")
      throw error;
  }
}

const installed = new WeakSet<object>();

/**
 * Lets Kallima routes on Fastify take any content type, leaving every other route's parsing as
 * Fastify has it. Fastify scopes parsers by plugin, and Nest registers every route in the root
 * one, so both parsers act on routes marked with {@link KALLIMA_FASTIFY_ROUTE_CONFIG} only:
 * `text/plain` keeps its bytes as `rawBody` there (elsewhere it is the same string as Fastify's
 * own parser makes), and a type without a parser (`application/octet-stream`, none) leaves the
 * stream to the core's reader there (elsewhere: Fastify's 415). Nest's JSON parser keeps its
 * bytes itself under `rawBody: true`.
 */
export function acceptAnyContentType(host: HttpAdapterHost | undefined): void {
  const adapter = host?.httpAdapter;
  if (adapter?.getType() !== "fastify") return;
  const fastify = adapter.getInstance<FastifyLike>();
  if (installed.has(fastify)) return;
  installed.add(fastify);
  const { bodyLimit } = fastify.initialConfig;
  addParser(() =>
    fastify.addContentTypeParser(
      "text/plain",
      { parseAs: "buffer", ...(bodyLimit === undefined ? {} : { bodyLimit }) },
      (request, body, done) => {
        if (isKallimaRoute(request)) request.rawBody = body;
        done(null, (body as Buffer).toString("utf8"));
      },
    ),
  );
  addParser(() =>
    fastify.addContentTypeParser("*", {}, (request, _stream, done) => {
      if (isKallimaRoute(request) || request.is404 === true) done(null, undefined);
      else done(unsupportedMediaType());
    }),
  );
}
