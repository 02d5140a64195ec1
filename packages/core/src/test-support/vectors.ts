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

const file = JSON.parse(readFileSync(vectorsPath, "utf8")) as {
  vectors: TestVector[];
  kallima_signature_vectors: TestVector[];
};

/** The shared `X-Kallima-Signature` / `X-Kallima-Timestamp` vectors, loaded from the file itself (never copied). */
export const vectors: TestVector[] = file.vectors;

/** The shared `Kallima-Signature: t=…,v1=…` vectors. */
export const kallimaSignatureVectors: TestVector[] = file.kallima_signature_vectors;

/** Both lists, each case named by its format. */
export const allVectors: { format: "x-headers" | "kallima-signature"; vector: TestVector }[] = [
  ...vectors.map((vector) => ({ format: "x-headers" as const, vector })),
  ...kallimaSignatureVectors.map((vector) => ({ format: "kallima-signature" as const, vector })),
];

export const bodyOf = (vector: TestVector): Uint8Array =>
  new Uint8Array(Buffer.from(vector.body_b64, "base64"));

export const header = (vector: TestVector, name: string): string | undefined =>
  Object.entries(vector.headers).find(([key]) => key.toLowerCase() === name)?.[1];
