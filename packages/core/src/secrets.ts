import { KallimaWebhookError, WebhookConfigError } from "./errors.js";
import { normalizeTolerance, WebhookVerifier } from "./verify.js";

/** One signing secret (`whsec_…`), or several during a rotation. */
export type SecretValue = string | readonly string[];

/**
 * The secret: a value, or a function of the request's context returning one, sync or async
 * (on Cloudflare Workers the secret is a binding, reachable only from a request).
 */
export type SecretOption<TContext = unknown> =
  | SecretValue
  | ((context: TContext) => SecretValue | PromiseLike<SecretValue>);

/** Distinct secrets whose imported keys are kept at once; far more than a rotation needs. */
const MAX_CACHED_SECRETS = 16;

/** Where a handler gets the verifier for a request: the same one, or one per distinct secret. */
export interface VerifierSource<TContext> {
  /** The verifier of a static secret; undefined when the secret is a function or invalid. */
  readonly fixed: WebhookVerifier | undefined;
  /** The verifier for this request, or a {@link WebhookConfigError} for an unusable secret. */
  get(context: TContext | undefined): WebhookVerifier | Promise<WebhookVerifier>;
}

function cacheKey(secret: unknown): string | undefined {
  // Prefixed so that a string can never collide with the key of a list.
  if (typeof secret === "string") return `s:${secret}`;
  if (Array.isArray(secret) && secret.every((item) => typeof item === "string")) {
    return `l:${JSON.stringify(secret)}`;
  }
  return undefined;
}

/**
 * Resolves the `secret` option into verifiers. Keys are imported once per distinct secret and
 * reused; a secret function's bad value is a coded config error at request time. With
 * `deferErrors`, a bad static secret is too (for frameworks that evaluate route modules at build
 * time, when secrets are often absent); otherwise it throws here, at start-up.
 */
export function createVerifierSource<TContext>(
  secret: SecretOption<TContext> | undefined,
  settings: { toleranceSeconds?: number; now?: () => number },
  deferErrors: boolean,
): VerifierSource<TContext> {
  // Checked now even when the secret comes later: these never depend on a request.
  normalizeTolerance(settings.toleranceSeconds);
  if (settings.now !== undefined && typeof settings.now !== "function") {
    throw new WebhookConfigError(
      "invalid_option",
      "now must be a function returning epoch milliseconds.",
    );
  }
  const make = (value: unknown) =>
    new WebhookVerifier({ ...settings, secret: value as SecretValue });

  if (typeof secret !== "function") {
    try {
      const verifier = make(secret);
      return { fixed: verifier, get: () => verifier };
    } catch (error) {
      if (!deferErrors || !(error instanceof KallimaWebhookError)) throw error;
      return {
        fixed: undefined,
        get: () => {
          throw error;
        },
      };
    }
  }

  const cache = new Map<string, WebhookVerifier>();
  const verifierFor = (value: unknown): WebhookVerifier => {
    const key = cacheKey(value);
    const cached = key === undefined ? undefined : cache.get(key);
    if (cached) {
      // Re-inserted so that the map's first entry is the least recently used.
      cache.delete(key!);
      cache.set(key!, cached);
      return cached;
    }
    const verifier = make(value);
    if (key !== undefined) {
      cache.set(key, verifier);
      if (cache.size > MAX_CACHED_SECRETS) cache.delete(cache.keys().next().value as string);
    }
    return verifier;
  };
  const fromFunction = secret as (context: TContext | undefined) => unknown;
  return {
    fixed: undefined,
    get(context) {
      const value = fromFunction(context);
      if (typeof (value as PromiseLike<unknown> | null)?.then === "function") {
        return Promise.resolve(value).then(verifierFor);
      }
      return verifierFor(value);
    },
  };
}
