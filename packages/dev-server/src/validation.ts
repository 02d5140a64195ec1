import { randomBytes } from "node:crypto";
import type { TriggerFaults } from "./local-kallima.js";
import { ApiProblem } from "./problem.js";
import type { DeliveryFault, SignatureFormat } from "./wire.js";

// The checks of every field a call may send (each failure a 422 validation_error), and the
// values the server makes for a record: its secret and its times.

const SIGNATURE_FORMATS: readonly SignatureFormat[] = ["x-headers", "kallima-signature"];

export function createSecret(): string {
  return `whsec_${randomBytes(24).toString("base64url")}`;
}

export function nowIso(): string {
  return new Date().toISOString();
}

export function invalid(detail: string): ApiProblem {
  return new ApiProblem(422, "validation_error", detail);
}

export function validateUrl(value: unknown): string {
  if (typeof value !== "string") throw invalid("url must be a string (the endpoint's URL).");
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`url is not a URL: ${JSON.stringify(value)}.`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw invalid(`url must be http(s), got ${url.protocol}`);
  }
  return url.href;
}

export function validateEvents(value: unknown): string[] | null {
  if (value === null || value === undefined) return null;
  if (!Array.isArray(value) || value.some((type) => typeof type !== "string" || type === "")) {
    throw invalid("events must be a list of event types, or null (every type).");
  }
  // An empty list means every type, as null does.
  return value.length === 0 ? null : [...new Set(value as string[])];
}

export function validateEnabled(value: unknown): boolean {
  if (typeof value !== "boolean") throw invalid("enabled must be true or false.");
  return value;
}

export function validateFormat(value: unknown): SignatureFormat {
  if (!SIGNATURE_FORMATS.includes(value as SignatureFormat)) {
    throw invalid(`signature_format must be "x-headers" or "kallima-signature".`);
  }
  return value as SignatureFormat;
}

export function faultOf(faults: TriggerFaults): DeliveryFault | null {
  const chosen: DeliveryFault[] = [];
  if (faults.stale_timestamp) chosen.push("stale_timestamp");
  if (faults.tampered_body) chosen.push("tampered_body");
  if (faults.wrong_secret) chosen.push("wrong_secret");
  if (chosen.length > 1)
    throw invalid("Choose one of stale_timestamp, tampered_body, wrong_secret.");
  return chosen[0] ?? null;
}

export function count(value: unknown, name: string, min: number, max: number): number {
  if (value === undefined) return min;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`${name} must be a whole number from ${min} to ${max}.`);
  }
  return value;
}
