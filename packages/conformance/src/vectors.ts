import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { DeliveryFormat } from "./signer.js";

/**
 * The one loader of the protocol's shared test vectors (../shared/test-vectors.json beside the
 * repository, never copied into it), for the core's tests, the CLI's and tools/runtimes.
 * `KALLIMA_TEST_VECTORS` points it at another file. A missing file, a missing or empty list or a
 * malformed case throws at import: a vectors file without one of the formats cannot make a
 * suite pass with no cases.
 */

/** One case of the shared file, computed by an independent implementation. */
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

/** Both lists of the file, as the tests use them. */
export interface VectorFile {
  /** `X-Kallima-Signature` + `X-Kallima-Timestamp`. */
  vectors: TestVector[];
  /** `Kallima-Signature: t=…,v1=…`. */
  kallima_signature_vectors: TestVector[];
}

/** The lists of the file, in order, with the header format of each. */
export const VECTOR_LISTS = [
  { list: "vectors", format: "x-headers" },
  { list: "kallima_signature_vectors", format: "kallima-signature" },
] as const satisfies readonly { list: keyof VectorFile; format: DeliveryFormat }[];

/** Where the vectors are read from: `KALLIMA_TEST_VECTORS`, else ../shared beside the repository. */
export const vectorsPath: string =
  process.env.KALLIMA_TEST_VECTORS ||
  fileURLToPath(new URL("../../../../shared/test-vectors.json", import.meta.url));

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function checkVector(value: unknown, where: string): TestVector {
  if (!isRecord(value)) throw new Error(`${where} is not an object`);
  const problems = [
    typeof value.name === "string" ? "" : "name",
    Array.isArray(value.secrets) && value.secrets.every((s) => typeof s === "string")
      ? ""
      : "secrets",
    isRecord(value.headers) && Object.values(value.headers).every((h) => typeof h === "string")
      ? ""
      : "headers",
    typeof value.body_b64 === "string" ? "" : "body_b64",
    typeof value.now === "number" ? "" : "now",
    typeof value.expect === "string" ? "" : "expect",
  ].filter(Boolean);
  if (problems.length > 0) {
    throw new Error(`${where} (${String(value.name)}) lacks a valid ${problems.join(", ")}`);
  }
  return value as unknown as TestVector;
}

/** Reads and checks a vectors file; throws, naming the file, when it or one of its lists is unusable. */
export function loadVectorFile(path: string = vectorsPath): VectorFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw new Error(
      `the shared test vectors are missing: cannot read ${path} (the repository expects ../shared/test-vectors.json beside it, or KALLIMA_TEST_VECTORS)`,
      { cause },
    );
  }
  let file: unknown;
  try {
    file = JSON.parse(text);
  } catch (cause) {
    throw new Error(`${path} is not JSON`, { cause });
  }
  if (!isRecord(file)) throw new Error(`${path} is not a JSON object`);
  const lists = {} as VectorFile;
  for (const { list } of VECTOR_LISTS) {
    const cases = file[list];
    if (!Array.isArray(cases) || cases.length === 0) {
      throw new Error(`${path} has no "${list}" list of cases (or it is empty)`);
    }
    lists[list] = cases.map((value, index) => checkVector(value, `${path} ${list}[${index}]`));
  }
  return lists;
}

/** Both lists of the shared file, loaded once. */
export const vectorFile: VectorFile = loadVectorFile();

/** The shared `X-Kallima-Signature` / `X-Kallima-Timestamp` vectors, loaded from the file itself (never copied). */
export const vectors: TestVector[] = vectorFile.vectors;

/** The shared `Kallima-Signature: t=…,v1=…` vectors. */
export const kallimaSignatureVectors: TestVector[] = vectorFile.kallima_signature_vectors;

/** Both lists, each case named by its format. */
export const allVectors: { format: DeliveryFormat; vector: TestVector }[] = VECTOR_LISTS.flatMap(
  ({ list, format }) => vectorFile[list].map((vector) => ({ format, vector })),
);

/** A case's exact body bytes. */
export const bodyOf = (vector: TestVector): Uint8Array =>
  new Uint8Array(Buffer.from(vector.body_b64, "base64"));

/** A header of a case, by lowercase name, whatever its case in the file. */
export const header = (vector: TestVector, name: string): string | undefined =>
  Object.entries(vector.headers).find(([key]) => key.toLowerCase() === name)?.[1];
