import { resolve } from "node:path";
import {
  type AttemptReport,
  compressSchedule,
  DEFAULT_DEV_PORT,
  DELIVERY_TIMEOUT_MS,
  type DeliveryAttempt,
  type EventObject,
  REALISTIC_RETRY_DELAYS_MS,
  startDevServer,
  type WebhookDeliveryObject,
} from "@kallima/webhooks-dev";
import { type Command, Option } from "commander";
import type { CliIO } from "./cli.js";
import { parseData } from "./data-option.js";
import { CliError } from "./errors.js";
import { parseSignatureFormat, SIGNATURE_FORMATS, type SignatureFormat } from "./formats.js";

/** Where `trigger` finds the dev server unless told: `--base-url`, then this variable. */
export const DEV_URL_ENV = "KALLIMA_DEV_URL";
const DEFAULT_STATE_FILE = ".kallima/dev-server.db";
const EXIT_OK = 0;
const EXIT_UNEXPECTED = 1;

function wholeNumber(name: string, min: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < min) {
      throw new CliError(
        "invalid_option",
        `--${name} must be a whole number ≥ ${min}, got "${value}".`,
      );
    }
    return parsed;
  };
}

function parseSchedule(value: string): number[] {
  const delays = value.split(",").map((part) => part.trim());
  if (delays.length === 0 || delays.some((part) => !/^\d+$/.test(part))) {
    throw new CliError(
      "invalid_option",
      `--retry-schedule takes delays in ms separated by commas (e.g. 100,500,2000), got "${value}".`,
    );
  }
  return delays.map(Number);
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function parseSetting(setting: string): [string, string] {
  const at = setting.indexOf("=");
  if (at <= 0) {
    throw new CliError(
      "invalid_option",
      `--set takes path=value (e.g. data.status=failed), got "${setting}".`,
    );
  }
  return [setting.slice(0, at), setting.slice(at + 1)];
}

function formatOption(description: string): Option {
  return new Option(
    "--format <format>",
    `${description}: ${SIGNATURE_FORMATS.join(" or ")}`,
  ).argParser((value: string) => parseSignatureFormat(value));
}

function describeAttempt(report: AttemptReport): string {
  const { attempt, delivery } = report;
  const answer =
    attempt.response_status === null
      ? `no answer (${attempt.error})`
      : String(attempt.response_status);
  const fault = attempt.fault ? ` [${attempt.fault}]` : "";
  const next = report.next_attempt_at ? `, retry at ${report.next_attempt_at}` : "";
  return `${delivery.event_type} ${delivery.event_id} → ${report.url} #${attempt.number}${fault}: ${answer} in ${attempt.latency_ms} ms${next}\n`;
}

interface DevFlags {
  port: number;
  host: string;
  state: string;
  persist: boolean;
  apiKey?: string;
  retrySchedule?: number[];
  compress?: number;
  timeout: number;
  format?: SignatureFormat;
}

/** Resolves when the process is told to stop (Ctrl-C, SIGTERM). */
function stopSignal(): Promise<string> {
  return new Promise((resolveStop) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolveStop(signal);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

async function runDev(flags: DevFlags, io: CliIO): Promise<number> {
  const delays = flags.retrySchedule ?? REALISTIC_RETRY_DELAYS_MS;
  const retryDelaysMs = flags.compress ? compressSchedule(delays, flags.compress) : delays;
  const stateFile = flags.persist ? resolve(flags.state) : undefined;
  const dev = await startDevServer({
    port: flags.port,
    host: flags.host,
    retryDelaysMs,
    deliveryTimeoutMs: flags.timeout,
    ...(stateFile ? { stateFile } : {}),
    ...(flags.apiKey ? { apiKey: flags.apiKey } : {}),
    ...(flags.format ? { defaultSignatureFormat: flags.format } : {}),
  });
  dev.kallima.onAttempt((report) => io.stdout.write(describeAttempt(report)));
  io.stdout.write(
    [
      `Kallima webhooks dev server (a local Kallima sender; not Kallima)`,
      `listening on ${dev.url}`,
      `  API:   ${dev.url}/v1/webhooks  (kallima-webhooks endpoints … --base-url ${dev.url})`,
      `  page:  ${dev.url}/`,
      `  state: ${stateFile ?? "in memory only (--no-persist)"}`,
      `  retries after: ${retryDelaysMs.map((ms) => `${ms} ms`).join(", ")}; timeout ${flags.timeout} ms`,
      `Trigger events with: kallima-webhooks trigger job.completed --base-url ${dev.url}`,
      "",
    ].join("\n"),
  );
  const signal = await stopSignal();
  io.stdout.write(`${signal}: stopping (saving the state)…\n`);
  await dev.close();
  return EXIT_OK;
}

interface TriggerFlags {
  baseUrl?: string;
  apiKey?: string;
  set?: string[];
  data?: string;
  id?: string;
  webhook?: string;
  format?: SignatureFormat;
  duplicates?: number;
  concurrent?: boolean;
  outOfOrder?: boolean;
  delay?: number;
  stale?: boolean;
  tamper?: boolean;
  wrongSecret?: boolean;
  json?: boolean;
}

interface Problem {
  title?: string;
  detail?: string;
  code?: string;
  status?: number;
}

async function devFetch(
  base: string,
  path: string,
  init: { method: string; body?: unknown; apiKey?: string },
): Promise<{ status: number; body: unknown }> {
  let response: Response;
  try {
    response = await fetch(new URL(path, base), {
      method: init.method,
      headers: {
        accept: "application/json",
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
        ...(init.apiKey ? { authorization: `Bearer ${init.apiKey}` } : {}),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      // The first attempts of every delivery are awaited: 30 s each, sent in parallel per endpoint.
      signal: AbortSignal.timeout(10 * 60_000),
    });
  } catch (error) {
    throw new CliError(
      "unreachable",
      `No dev server answers at ${base}: start one with \`kallima-webhooks dev\`, or pass --base-url.`,
      { cause: error },
    );
  }
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    // Not JSON: shown as it is.
  }
  return { status: response.status, body };
}

function parseBaseUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === "http:" || url.protocol === "https:") return url.href;
  } catch {
    // Reported below.
  }
  throw new CliError("invalid_option", `--base-url must be an http(s) URL, got "${value}".`);
}

async function runTrigger(types: string[], flags: TriggerFlags, io: CliIO): Promise<number> {
  const base = parseBaseUrl(
    flags.baseUrl ?? io.env[DEV_URL_ENV] ?? `http://127.0.0.1:${DEFAULT_DEV_PORT}`,
  );
  if (flags.id !== undefined && types.length > 1) {
    throw new CliError("invalid_option", "--id names one event: trigger one type with it.");
  }
  if (flags.id === "") throw new CliError("invalid_option", "--id must not be empty.");
  const data = flags.data === undefined ? undefined : await parseData(flags.data);
  const set = Object.fromEntries((flags.set ?? []).map(parseSetting));
  const faults = {
    ...(flags.duplicates === undefined ? {} : { duplicates: flags.duplicates }),
    ...(flags.concurrent ? { concurrent: true } : {}),
    ...(flags.outOfOrder ? { out_of_order: true } : {}),
    ...(flags.delay === undefined ? {} : { delay_ms: flags.delay }),
    ...(flags.stale ? { stale_timestamp: true } : {}),
    ...(flags.tamper ? { tampered_body: true } : {}),
    ...(flags.wrongSecret ? { wrong_secret: true } : {}),
  };
  const request = {
    events: types.map((type) => ({
      type,
      ...(data ? { data } : {}),
      ...(Object.keys(set).length > 0 ? { set } : {}),
      ...(flags.id === undefined ? {} : { id: flags.id }),
    })),
    ...(flags.webhook ? { webhook_id: flags.webhook } : {}),
    ...(flags.format ? { signature_format: flags.format } : {}),
    ...(Object.keys(faults).length > 0 ? { faults } : {}),
  };
  const apiKey = flags.apiKey ?? io.env.KALLIMA_API_KEY;
  const answer = await devFetch(base, "/v1/dev/events", {
    method: "POST",
    body: request,
    ...(apiKey ? { apiKey } : {}),
  });
  if (answer.status !== 201) {
    const problem = (
      typeof answer.body === "object" && answer.body !== null ? answer.body : {}
    ) as Problem;
    if (flags.json) {
      io.stdout.write(`${JSON.stringify({ error: answer.body })}\n`);
    } else {
      io.stderr.write(
        `error: ${answer.status} ${problem.title ?? ""}${problem.code ? ` (${problem.code})` : ""}: ${problem.detail ?? String(answer.body)}\n`,
      );
    }
    return EXIT_UNEXPECTED;
  }
  const result = answer.body as { events: EventObject[]; deliveries: WebhookDeliveryObject[] };
  const attempts = await Promise.all(
    result.deliveries.map(async (delivery) => {
      const listed = await devFetch(base, `/v1/dev/deliveries/${delivery.id}/attempts`, {
        method: "GET",
        ...(apiKey ? { apiKey } : {}),
      });
      return (listed.body as DeliveryAttempt[])[0];
    }),
  );
  if (flags.json) {
    io.stdout.write(`${JSON.stringify({ ...result, attempts })}\n`);
    return result.deliveries.length === 0 ? EXIT_UNEXPECTED : EXIT_OK;
  }
  for (const event of result.events) io.stdout.write(`event ${event.type} ${event.id}\n`);
  result.deliveries.forEach((delivery, index) => {
    const attempt = attempts[index];
    const status = delivery.response_status ?? `no answer (${attempt?.error ?? "?"})`;
    const ok = delivery.delivered_at !== null ? "✓" : "✗";
    const after =
      delivery.delivered_at !== null
        ? ""
        : attempt?.fault
          ? " (fault injected: not retried)"
          : " (retried on schedule)";
    io.stdout.write(
      `${ok} ${delivery.event_type} → webhook ${delivery.webhook_id}: ${status} in ${attempt?.latency_ms ?? "?"} ms${after}\n`,
    );
  });
  if (result.deliveries.length === 0) {
    io.stderr.write(
      "No delivery: no enabled endpoint is subscribed to that type. Register one: POST /v1/webhooks (or kallima-webhooks endpoints create).\n",
    );
    return EXIT_UNEXPECTED;
  }
  return EXIT_OK;
}

/** Adds `dev` (run the local Kallima sender) and `trigger` (fire events through it). */
export function registerDevCommands(
  program: Command,
  io: CliIO,
  setExit: (code: number) => void,
): void {
  program
    .command("dev")
    .description(
      "Run a local Kallima sender: the endpoints API on localhost, signed deliveries with Kallima's retries, and a page listing every attempt. State persists in a JSON file.",
    )
    .option(
      "-p, --port <port>",
      "port (0 picks a free one)",
      wholeNumber("port", 0),
      DEFAULT_DEV_PORT,
    )
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option(
      "--state <file>",
      "SQLite file the endpoints, events and deliveries persist in",
      DEFAULT_STATE_FILE,
    )
    .option("--no-persist", "keep everything in memory only")
    .option("--api-key <key>", "require Authorization: Bearer <key> on the API (default: none)")
    .option(
      "--retry-schedule <ms,…>",
      `delays before each retry (default the realistic ${REALISTIC_RETRY_DELAYS_MS.length}-step schedule, 5 s to 10 h)`,
      parseSchedule,
    )
    .option(
      "--compress <factor>",
      "divide every retry delay by factor (e.g. 1000 for tests)",
      wholeNumber("compress", 1),
    )
    .option(
      "--timeout <ms>",
      "how long an attempt waits for an answer",
      wholeNumber("timeout", 1),
      DELIVERY_TIMEOUT_MS,
    )
    .addOption(
      formatOption("header format of endpoints registered without one (default x-headers)"),
    )
    .action(async (flags: DevFlags) => setExit(await runDev(flags, io)));

  program
    .command("trigger")
    .description(
      "Fire events through a running dev server: each is signed and delivered to every enabled endpoint subscribed to its type (several types: a batch, created in that order).",
    )
    .argument("<types...>", "event types, e.g. job.completed job.failed")
    .option(
      "--base-url <url>",
      `the dev server (default $${DEV_URL_ENV} or http://127.0.0.1:${DEFAULT_DEV_PORT})`,
    )
    .option("--api-key <key>", "API key, if the dev server requires one (default $KALLIMA_API_KEY)")
    .option(
      "--set <path=value>",
      "set a field, e.g. --set data.error.code=oom (repeatable; JSON values parsed)",
      collect,
    )
    .option(
      "-d, --data <json>",
      "event data as JSON, or @file.json, merged into the fixture's at every depth",
    )
    .option("--id <id>", "event id (default a fresh evt_…)")
    .option("--webhook <id>", "deliver to this endpoint only")
    .addOption(formatOption("sign in this header format instead of each endpoint's"))
    .option(
      "--duplicates <n>",
      "deliver each event n times (same event id)",
      wholeNumber("duplicates", 1),
    )
    .option("--concurrent", "send the duplicates at once")
    .option("--out-of-order", "deliver the batch newest first")
    .option("--delay <ms>", "wait before the first attempt", wholeNumber("delay", 0))
    .addOption(
      new Option("--stale", "sign an hour ago (must be refused)").conflicts([
        "tamper",
        "wrongSecret",
      ]),
    )
    .addOption(
      new Option("--tamper", "change the body after signing (must be refused)").conflicts([
        "wrongSecret",
      ]),
    )
    .option("--wrong-secret", "sign with a random secret (must be refused)")
    .option("--json", "print one JSON object instead of text")
    .action(async (types: string[], flags: TriggerFlags) =>
      setExit(await runTrigger(types, flags, io)),
    );
}
