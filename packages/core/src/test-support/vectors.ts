import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** One case of ../shared/test-vectors.json, computed by an independent implementation. */
export interface TestVector {
  name: string;
  secrets: string[];
  headers: Record<string, string>;
  body_b64: string;
  now: number;
  expect: string;
  tolerance_seconds?: number;
  event_type?: string;
  event_id?: string;
}

const vectorsPath = fileURLToPath(
  new URL("../../../../../shared/test-vectors.json", import.meta.url),
);

/** The shared vectors, loaded from the file itself (never copied). */
export const vectors: TestVector[] = (
  JSON.parse(readFileSync(vectorsPath, "utf8")) as { vectors: TestVector[] }
).vectors;

export const bodyOf = (vector: TestVector): Uint8Array =>
  new Uint8Array(Buffer.from(vector.body_b64, "base64"));

export const header = (vector: TestVector, name: string): string | undefined =>
  Object.entries(vector.headers).find(([key]) => key.toLowerCase() === name)?.[1];
