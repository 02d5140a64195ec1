import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiProblem } from "./problem.js";

/** Request bodies of the management API are small; anything bigger is refused. */
export const REQUEST_BODY_LIMIT = 1_048_576;

/** Reads a JSON object body; an empty body is `{}`. */
export async function readJsonObject(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > REQUEST_BODY_LIMIT) {
      throw new ApiProblem(
        413,
        "payload_too_large",
        `Bodies are limited to ${REQUEST_BODY_LIMIT} bytes.`,
      );
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ApiProblem(400, "invalid_json", `The body is not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ApiProblem(422, "validation_error", "The body must be a JSON object.");
  }
  return parsed as Record<string, unknown>;
}

/** Sends an answer, JSON unless told otherwise; `undefined` body means none (204). */
export function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (body === undefined) {
    response.writeHead(status, headers).end();
    return;
  }
  const text = typeof body === "string" ? body : JSON.stringify(body);
  response
    .writeHead(status, {
      "content-type": "application/json; charset=utf-8",
      "content-length": String(Buffer.byteLength(text)),
      ...headers,
    })
    .end(text);
}
