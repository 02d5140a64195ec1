// Node, Bun and Deno: `<runtime> runtime/vectors-cli.js <vectors.json> <deliveries.json>`;
// prints one JSON line: the vectors report, with the observability report under `observability`.
import { readFileSync } from "node:fs";
import process from "node:process";
import type { VectorFile } from "@kallima/webhooks-conformance/vectors";
import { checkVectors } from "./check-vectors.js";
import { observe } from "./observe.js";
import type { ObservedDeliveries } from "./observed-deliveries.js";

const [vectorsPath, deliveriesPath] = process.argv.slice(2);
if (!vectorsPath || !deliveriesPath) {
  throw new Error("usage: vectors-cli.js <vectors.json> <deliveries.json>");
}
const file = JSON.parse(readFileSync(vectorsPath, "utf8")) as Partial<VectorFile>;
const deliveries = JSON.parse(readFileSync(deliveriesPath, "utf8")) as Partial<ObservedDeliveries>;
const report = await checkVectors(file);
console.log(JSON.stringify({ ...report, observability: await observe(deliveries) }));
