import type { IncomingMessage } from "node:http";
import { KALLIMA_SIGNATURE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER } from "../headers.js";

const NAMES = [SIGNATURE_HEADER, TIMESTAMP_HEADER, KALLIMA_SIGNATURE_HEADER] as const;

/**
 * The signature headers of a Node request, each as the list of values it arrived with. Node
 * joins a repeated custom header into one `"a, b"` string in `req.headers`, which would read as
 * a list of two signatures; `rawHeaders` still tells the copies apart, so the verifier can refuse
 * a repeated signature header as Kallima's protocol says.
 *
 * @example
 * ```ts
 * await handler.handle({ headers: nodeSignatureHeaders(req), rawBody: readRawBody(req) });
 * ```
 */
export function nodeSignatureHeaders(req: IncomingMessage): Record<string, string[]> {
  const found: Record<string, string[]> = {};
  const raw = req.rawHeaders;
  for (let index = 0; index + 1 < raw.length; index += 2) {
    const name = raw[index]!;
    // Cheap length test first: most headers are none of the three.
    if (name.length !== 19 && name.length !== 17) continue;
    const lower = name.toLowerCase();
    for (const wanted of NAMES) {
      if (lower !== wanted) continue;
      const values = found[wanted];
      if (values) values.push(raw[index + 1]!);
      else found[wanted] = [raw[index + 1]!];
    }
  }
  return found;
}
