import { RawBodyUnavailableError } from "@kallima/webhooks";
import { checkBodySize } from "@kallima/webhooks/adapter";
import { type NodeWebhookRequest, readRawBody } from "@kallima/webhooks/node";
import type { Context } from "koa";

/** The fix, named for Koa's body parsers: what the message of a `raw_body_unavailable` says. */
export const BODY_PARSER_FIX =
  "Mount the webhook middleware before bodyParser() (koa-bodyparser, @koa/bodyparser), " +
  "or let the parser skip its route: set `ctx.disableBodyParser = true` for that path in a middleware that runs before bodyParser().";

/** The bytes a body parser kept, where koa-bodyparser and @koa/bodyparser keep them. */
export function keptRawBody(ctx: Context): unknown {
  const kept = (ctx.request as { rawBody?: unknown }).rawBody;
  // @koa/bodyparser's patchNode option keeps them on the Node request too.
  return kept ?? (ctx.req as NodeWebhookRequest).rawBody;
}

/**
 * Why a body parser's decoded `rawBody` string may not be the bytes Kallima signed, or undefined
 * when it is exactly them. The parsers decode the body (UTF-8 by default, whatever the
 * `Content-Type` says), which drops a byte-order mark and turns invalid bytes into U+FFFD; their
 * `encoding` option can make it another charset, and they inflate a compressed body. The string
 * is taken only when encoding it back as UTF-8 gives as many bytes as the Content-Length says,
 * with no U+FFFD in it and no Content-Encoding: valid UTF-8 then round-trips byte for byte.
 */
function inexactReason(ctx: Context, text: string): string | undefined {
  const encoding = ctx.get("content-encoding").trim().toLowerCase();
  if (encoding !== "" && encoding !== "identity") {
    return `the body was sent with Content-Encoding: ${encoding}, and the parser kept it inflated`;
  }
  const declared = ctx.get("content-length");
  if (!/^\d+$/.test(declared)) {
    return "the body came without a Content-Length, so the text the parser kept cannot be checked against the bytes sent";
  }
  if (text.includes("\uFFFD")) {
    return "the text the parser kept has U+FFFD in it, which a decoder puts in place of bytes that are not UTF-8";
  }
  if (Buffer.byteLength(text, "utf8") !== Number(declared)) {
    return "the text the parser kept is not as many bytes as were sent (a byte-order mark dropped, or a charset other than UTF-8)";
  }
  return undefined;
}

/**
 * The exact body bytes of a Koa request, at most `limit` of them: the stream, read by the core's
 * Node reader when nothing read it yet; the bytes a body parser kept as `ctx.request.rawBody`
 * when they are exact (see {@link inexactReason}); otherwise a `raw_body_unavailable` error that
 * names the fix.
 */
export async function readKoaBody(ctx: Context, limit: number): Promise<Uint8Array | string> {
  const kept = keptRawBody(ctx);
  if (kept instanceof Uint8Array) return checkBodySize(kept, limit);
  if (typeof kept === "string") {
    checkBodySize(kept, limit);
    const reason = inexactReason(ctx, kept);
    if (reason !== undefined) {
      throw new RawBodyUnavailableError(
        `A body parser read the request before the webhook middleware and kept it as text, which may not be the exact bytes Kallima signed: ${reason}. ${BODY_PARSER_FIX}`,
      );
    }
    return kept;
  }
  return readRawBody(ctx.req, { maxBodyBytes: limit, consumedBodyHint: BODY_PARSER_FIX });
}
