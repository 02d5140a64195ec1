import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { Command, CommanderError, Option } from "commander";
import { parseData } from "./data-option.js";
import {
  buildEvent,
  type DeliveryDefect,
  type DeliveryResponse,
  EXPECTED_CODE_OF_DEFECT,
  FIXTURE_EVENT_TYPES,
  parseUrl,
  type SendReport,
  sendEvent,
} from "./deliveries.js";
import { registerDevCommands } from "./dev-commands.js";
import { registerEndpointsCommands } from "./endpoints-command.js";
import { CliError } from "./errors.js";
import {
  describeFormat,
  parseSignatureFormat,
  SIGNATURE_FORMATS,
  type SignatureFormat,
} from "./formats.js";
import { registerQueueCommands } from "./queue-command.js";
import { curlCommand, inferSignatureFormat, signBody, verifyBody } from "./signing.js";

/** Where the CLI reads and writes; the real process streams by default. */
export interface CliIO {
  stdout: { write(chunk: string): unknown; isTTY?: boolean };
  stderr: { write(chunk: string): unknown; isTTY?: boolean };
  stdin: AsyncIterable<unknown> & { isTTY?: boolean };
  env: Record<string, string | undefined>;
}

/** Exit codes: 0 as expected, 1 an answer or signature was not, 2 bad input or usage. */
export const EXIT = { ok: 0, unexpected: 1, usage: 2 } as const;

const SECRET_ENV = "KALLIMA_WEBHOOK_SECRET";
const DEFAULT_CURL_URL = "http://localhost:3000/kallima-events";

interface Paint {
  ok(text: string): string;
  bad(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

function painter(enabled: boolean): Paint {
  const wrap = (open: number, close: number) => (text: string) =>
    enabled ? `\u001b[${open}m${text}\u001b[${close}m` : text;
  return { ok: wrap(32, 39), bad: wrap(31, 39), dim: wrap(2, 22), bold: wrap(1, 22) };
}

function colorsFor(stream: { isTTY?: boolean }, env: CliIO["env"]): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return true;
  return stream.isTTY === true;
}

function cliVersion(): string {
  const require = createRequire(import.meta.url);
  return (require("../package.json") as { version: string }).version;
}

function resolveSecret(option: string | undefined, env: CliIO["env"]): string {
  const secret = option ?? env[SECRET_ENV];
  if (secret === undefined || secret === "") {
    throw new CliError(
      "invalid_secret",
      `No secret: pass --secret whsec_… or set ${SECRET_ENV} (the environment keeps it out of your shell history).`,
    );
  }
  return secret;
}

function parseUnixSeconds(value: string): number {
  if (!/^\d{1,15}$/.test(value)) {
    throw new CliError(
      "invalid_option",
      `--timestamp must be Unix seconds (digits only), got "${value}".`,
    );
  }
  return Number(value);
}

function parseCount(name: string) {
  return (value: string): number => {
    const count = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(count) || count < 1) {
      throw new CliError("invalid_option", `--${name} must be a whole number ≥ 1, got "${value}".`);
    }
    return count;
  };
}

async function readInput(file: string | undefined, io: CliIO): Promise<Buffer> {
  if (file !== undefined && file !== "-") {
    try {
      return await readFile(file);
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new CliError("read_failed", `Cannot read ${file}${code ? ` (${code})` : ""}.`, {
        cause: error,
      });
    }
  }
  if (io.stdin.isTTY) {
    throw new CliError(
      "read_failed",
      "No body: give a file, or pipe the body on stdin (e.g. `cat event.json | kallima-webhooks …`).",
    );
  }
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) {
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
}

function describeDefect(defect: DeliveryDefect | undefined): string {
  switch (defect) {
    case "stale":
      return "stale timestamp";
    case "tampered":
      return "tampered body";
    case "wrong-secret":
      return "wrong secret";
    default:
      return "valid delivery";
  }
}

/** The whole answer on one line: never cut, since its end may hold the fix. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

interface SendFlags {
  secret?: string;
  format: SignatureFormat;
  event: string;
  data?: string;
  id?: string;
  timestamp?: string;
  stale?: boolean;
  tamper?: boolean;
  wrongSecret?: boolean;
  repeat: number;
  concurrency: number;
  timeout: number;
  json?: boolean;
}

async function runSend(url: string, flags: SendFlags, io: CliIO): Promise<number> {
  parseUrl(url);
  const secret = resolveSecret(flags.secret, io.env);
  // Refuse a malformed secret now, before any request line is printed.
  await signBody({ secret, body: "" });
  const data = flags.data === undefined ? undefined : await parseData(flags.data);
  const timestamp = flags.timestamp === undefined ? undefined : parseUnixSeconds(flags.timestamp);
  const defect: DeliveryDefect | undefined = flags.stale
    ? "stale"
    : flags.tamper
      ? "tampered"
      : flags.wrongSecret
        ? "wrong-secret"
        : undefined;
  const event = buildEvent(flags.event, {
    ...(data ? { data } : {}),
    ...(flags.id === undefined ? {} : { id: flags.id }),
  });
  const paint = painter(colorsFor(io.stdout, io.env));
  const expectText = defect ? `expect 401 ${EXPECTED_CODE_OF_DEFECT[defect]}` : "expect 2xx";
  if (!flags.json) {
    io.stdout.write(
      `${paint.bold(`POST ${url}`)}\n${paint.dim(`${event.type} ${event.id} · ${describeDefect(defect)} (${describeFormat(flags.format)}), ${expectText}`)}\n`,
    );
  }
  const many = flags.repeat > 1;
  const printAnswer = (attempt: number, answer: DeliveryResponse) => {
    if (flags.json) return;
    const mark = answer.asExpected ? paint.ok("✓") : paint.bad("✗");
    const status = answer.asExpected
      ? paint.ok(String(answer.status))
      : paint.bad(String(answer.status));
    const prefix = many ? `#${attempt} ` : "";
    io.stdout.write(
      `${mark} ${prefix}${status} in ${answer.latencyMs} ms  ${paint.dim(oneLine(answer.body))}\n`,
    );
    if (!answer.asExpected && answer.reason) io.stdout.write(`  ${paint.bad(answer.reason)}\n`);
  };
  const report: SendReport = await sendEvent({
    url,
    secret,
    event,
    format: flags.format,
    repeat: flags.repeat,
    concurrency: flags.concurrency,
    timeoutMs: flags.timeout,
    ...(defect ? { defect } : {}),
    ...(timestamp === undefined ? {} : { timestamp }),
    onResponse: printAnswer,
  });
  if (flags.json) {
    io.stdout.write(`${JSON.stringify({ url, ...report })}\n`);
  } else if (many) {
    const wrong = report.deliveries.filter((delivery) => !delivery.asExpected).length;
    io.stdout.write(
      wrong === 0
        ? `${paint.ok(`all ${report.deliveries.length} answers as expected`)}\n`
        : `${paint.bad(`${wrong} of ${report.deliveries.length} answers not as expected`)}\n`,
    );
  }
  return report.ok ? EXIT.ok : EXIT.unexpected;
}

interface SignFlags {
  secret?: string;
  format: SignatureFormat;
  timestamp?: string;
  url: string;
  json?: boolean;
}

async function runSign(file: string | undefined, flags: SignFlags, io: CliIO): Promise<number> {
  parseUrl(flags.url);
  const secret = resolveSecret(flags.secret, io.env);
  const timestamp = flags.timestamp === undefined ? undefined : parseUnixSeconds(flags.timestamp);
  const body = await readInput(file, io);
  const signed = await signBody({
    secret,
    body,
    format: flags.format,
    ...(timestamp === undefined ? {} : { timestamp }),
  });
  const fromFile = file !== undefined && file !== "-";
  const curl = curlCommand({
    url: flags.url,
    headers: signed.headers,
    ...(fromFile ? { file } : { body: body.toString("utf8") }),
  });
  if (flags.json) {
    io.stdout.write(
      `${JSON.stringify({ format: signed.format, signature: signed.signature, timestamp: signed.timestamp, headers: signed.headers, curl })}\n`,
    );
    return EXIT.ok;
  }
  const paint = painter(colorsFor(io.stdout, io.env));
  const lines = Object.entries(signed.headers)
    .filter(([name]) => name !== "content-type")
    .map(([name, value]) => `${name}: ${value}\n`)
    .join("");
  io.stdout.write(
    `${lines}\n${paint.dim("# send it (within 5 minutes of the timestamp):")}\n${curl}\n`,
  );
  return EXIT.ok;
}

interface VerifyFlags {
  secret?: string;
  format: SignatureFormat;
  signature: string;
  timestamp?: string;
  tolerance?: string;
  json?: boolean;
}

async function runVerify(
  file: string | undefined,
  flags: VerifyFlags,
  formatGiven: boolean,
  io: CliIO,
): Promise<number> {
  const format = verifyFormat(flags, formatGiven);
  const secret = resolveSecret(flags.secret, io.env);
  let toleranceSeconds: number | undefined;
  if (flags.tolerance !== undefined) {
    toleranceSeconds = Number(flags.tolerance);
    if (!Number.isFinite(toleranceSeconds) || toleranceSeconds <= 0) {
      throw new CliError(
        "invalid_option",
        `--tolerance must be a positive number of seconds, got "${flags.tolerance}".`,
      );
    }
  }
  const body = await readInput(file, io);
  const verdict = await verifyBody({
    secret,
    body,
    signature: flags.signature,
    format,
    ...(flags.timestamp === undefined ? {} : { timestamp: flags.timestamp }),
    ...(toleranceSeconds === undefined ? {} : { toleranceSeconds }),
  });
  if (flags.json) {
    io.stdout.write(
      `${JSON.stringify(
        verdict.valid
          ? {
              valid: true,
              format: verdict.format,
              event: { id: verdict.event.id, type: verdict.event.type },
            }
          : verdict,
      )}\n`,
    );
  } else {
    const paint = painter(colorsFor(io.stdout, io.env));
    io.stdout.write(
      verdict.valid
        ? `${paint.ok("✓ valid")}: ${verdict.event.type} ${verdict.event.id}\n`
        : `${paint.bad(`✗ ${verdict.code}`)}: ${verdict.message}\n`,
    );
  }
  return verdict.valid ? EXIT.ok : EXIT.unexpected;
}

/**
 * The format `verify` reads `--signature` in. Without `--format`, a value with no `--timestamp`
 * that holds `=` is a `Kallima-Signature` value (hex never holds `=`).
 */
function verifyFormat(
  flags: Pick<VerifyFlags, "format" | "signature" | "timestamp">,
  formatGiven: boolean,
): SignatureFormat {
  const format = formatGiven
    ? flags.format
    : inferSignatureFormat(flags.signature, flags.timestamp);
  if (format === "kallima-signature" && flags.timestamp !== undefined) {
    throw new CliError(
      "invalid_option",
      "--timestamp does not go with --format kallima-signature: the Kallima-Signature value carries its own t=… (pass it whole as --signature).",
    );
  }
  if (format === "x-headers" && flags.timestamp === undefined) {
    throw new CliError(
      "invalid_option",
      formatGiven
        ? "--format x-headers needs --timestamp (the X-Kallima-Timestamp value)."
        : '--timestamp is missing: give the X-Kallima-Timestamp value, or pass the whole Kallima-Signature value ("t=…,v1=…") as --signature.',
    );
  }
  return format;
}

function formatOption(): Option {
  return new Option(
    "--format <format>",
    `header format: ${SIGNATURE_FORMATS.map((format) => `${format} (${describeFormat(format)})`).join(" or ")}`,
  )
    .default(SIGNATURE_FORMATS[0])
    .argParser((value: string) => parseSignatureFormat(value));
}

function secretOption(): Option {
  return new Option("-s, --secret <secret>", `signing secret (whsec_…); default $${SECRET_ENV}`);
}

function buildProgram(io: CliIO, setExit: (code: number) => void, jsonErrors: boolean): Command {
  const program = new Command("kallima-webhooks")
    .description("Send, sign and verify Kallima webhook deliveries.")
    .version(cliVersion())
    .showHelpAfterError(jsonErrors ? false : "(add --help for usage)")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // With --json, runCli prints usage errors as JSON instead.
      outputError: (text, write) => {
        if (!jsonErrors) write(painter(colorsFor(io.stderr, io.env)).bad(text));
      },
    });

  program
    .command("send")
    .description(
      "Sign an event exactly as Kallima does and POST it; exit 1 unless the answer is the right one for the kind of delivery (2xx for a valid one; for --stale, --tamper, --wrong-secret a refusal naming timestamp_too_old or invalid_signature; 404 or 405 never).",
    )
    .argument("<url>", "the webhook endpoint, e.g. http://localhost:3000/kallima-events")
    .addOption(secretOption())
    .addOption(formatOption())
    .option(
      "-e, --event <type>",
      `event type: ${FIXTURE_EVENT_TYPES.join(", ")} (realistic fixtures) or any other`,
      "job.completed",
    )
    .option("-d, --data <json>", "event data as JSON, or @file.json (merged over the fixture's)")
    .option("--id <id>", "event id (default a fresh evt_…)")
    .option("-t, --timestamp <unix>", "sign at this Unix time instead of now")
    .addOption(new Option("--stale", "sign an hour ago: must be refused").conflicts(["timestamp"]))
    .addOption(
      new Option("--tamper", "change the body after signing: must be refused").conflicts([
        "stale",
        "wrongSecret",
      ]),
    )
    .addOption(
      new Option("--wrong-secret", "sign with a random secret: must be refused").conflicts([
        "stale",
      ]),
    )
    .option("-r, --repeat <n>", "deliver the same event (same id) n times", parseCount("repeat"), 1)
    .option(
      "-c, --concurrency <n>",
      "deliveries in flight at once (409 then counts as expected)",
      parseCount("concurrency"),
      1,
    )
    .option(
      "--timeout <ms>",
      "give up waiting for an answer after ms",
      parseCount("timeout"),
      30000,
    )
    .option("--json", "print one JSON object instead of text")
    .action(async (url: string, flags: SendFlags) => setExit(await runSend(url, flags, io)));

  program
    .command("sign")
    .description(
      "Print the header(s) that authenticate a body in the chosen format, and the curl line that sends it.",
    )
    .argument("[file]", "the body; - or nothing reads stdin")
    .addOption(secretOption())
    .addOption(formatOption())
    .option("-t, --timestamp <unix>", "sign at this Unix time instead of now")
    .option("--url <url>", "endpoint for the printed curl line", DEFAULT_CURL_URL)
    .option("--json", "print one JSON object instead of text")
    .action(async (file: string | undefined, flags: SignFlags) =>
      setExit(await runSign(file, flags, io)),
    );

  program
    .command("verify")
    .description(
      "Check a body against its signature header(s): valid, or the protocol's error code and why (exit 1). Give X-Kallima-Signature's value with --timestamp, or Kallima-Signature's whole value (t=…,v1=…) alone.",
    )
    .argument("[file]", "the body, exactly as received; - or nothing reads stdin")
    .addOption(secretOption())
    .addOption(formatOption())
    .requiredOption(
      "--signature <sig>",
      'the X-Kallima-Signature value, or the Kallima-Signature value ("t=…,v1=…")',
    )
    .option(
      "--timestamp <ts>",
      "the X-Kallima-Timestamp value (x-headers only; without it, a --signature holding = is read as Kallima-Signature)",
    )
    .option("--tolerance <seconds>", "freshness window in seconds", undefined)
    .option("--json", "print one JSON object instead of text")
    .action(async (file: string | undefined, flags: VerifyFlags, command: Command) =>
      setExit(
        await runVerify(file, flags, command.getOptionValueSource("format") !== "default", io),
      ),
    );

  registerEndpointsCommands(program, {
    io,
    paint: painter(colorsFor(io.stdout, io.env)),
    exit: EXIT,
    setExit,
  });
  registerDevCommands(program, io, setExit);
  registerQueueCommands(program, { stdout: io.stdout, setExit });

  return program;
}

function defaultIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
}

/**
 * Runs the `kallima-webhooks` command line and resolves to its exit code; never throws for bad
 * input (it prints a one-line error, without a stack trace).
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(["send", "http://localhost:3000/kallima-events", "--stale"]);
 * ```
 */
export async function runCli(argv: readonly string[], io: Partial<CliIO> = {}): Promise<number> {
  const streams: CliIO = { ...defaultIO(), ...io };
  // With --json, stdout is one JSON object whatever happens: errors too.
  const json = argv.includes("--json");
  const printJsonError = (code: string, message: string) =>
    streams.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
  let exitCode: number = EXIT.ok;
  const program = buildProgram(
    streams,
    (code) => {
      exitCode = code;
    },
    json,
  );
  try {
    await program.parseAsync([...argv], { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version "fail" with exit code 0; usage errors were already printed (as text).
      if (error.exitCode === 0) return EXIT.ok;
      if (json) printJsonError("usage", error.message.replace(/^error: /, ""));
      return EXIT.usage;
    }
    const paint = painter(colorsFor(streams.stderr, streams.env));
    if (error instanceof CliError) {
      if (json) printJsonError(error.code, error.message);
      else streams.stderr.write(`${paint.bad("error:")} ${error.message}\n`);
      return error.code === "unreachable" || error.code === "timeout"
        ? EXIT.unexpected
        : EXIT.usage;
    }
    const message = error instanceof Error ? error.message : String(error);
    if (json) printJsonError("unexpected", message);
    else streams.stderr.write(`${paint.bad("unexpected error:")} ${message}\n`);
    return EXIT.unexpected;
  }
}
