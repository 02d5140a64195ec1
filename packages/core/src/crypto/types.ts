/** The body as the verifier hashes it: a string is hashed as its UTF-8 bytes. */
export type BodyBytes = string | Uint8Array;

/**
 * What differs between runtimes: HMAC, constant-time comparison and UTF-8 handling.
 * `#crypto` resolves to `node.ts` where `node:crypto` exists and to `web.ts` elsewhere.
 */
export interface SignatureEngine {
  /**
   * The index of the first secret whose HMAC of `timestamp.body` equals any candidate, or -1.
   * Every secret and candidate is compared whatever matched. Candidates are the header's
   * signature items as sent: one that is not 64 hex digits matches nothing (the engine checks
   * while it decodes, once).
   */
  matches(
    timestamp: string,
    body: BodyBytes,
    candidates: readonly string[],
  ): number | Promise<number>;
  /**
   * {@link matches} answered synchronously, on engines that can (node:crypto); absent where the
   * HMAC is asynchronous only (Web Crypto).
   */
  matchesSync?(timestamp: string, body: BodyBytes, candidates: readonly string[]): number;
  /** Lowercase hex HMAC-SHA256 of `timestamp.body` under the first secret. */
  sign(timestamp: string, body: BodyBytes): Promise<string>;
}

export interface CryptoModule {
  /** Name of the implementation, for diagnostics and tests. */
  readonly engineName: "node:crypto" | "web-crypto";
  createSignatureEngine(secrets: readonly string[]): SignatureEngine;
  /** The body as text, or `undefined` when its bytes are not valid UTF-8. */
  decodeUtf8(body: BodyBytes): string | undefined;
  utf8ByteLength(body: BodyBytes): number;
}
