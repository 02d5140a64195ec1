import {
  type InferredPathOptions,
  KallimaClient,
  KallimaError,
  type Webhook,
  type WebhookDelivery,
} from "@kallima/webhooks-client";
import { type Command, Option } from "commander";
import type { CliIO, EXIT } from "./cli.js";
import { parseUrl } from "./deliveries.js";
import {
  apiFailureJson,
  deliveryLines,
  deliveryTable,
  describeApiFailure,
  type Paint,
  webhookLines,
  webhookTable,
} from "./endpoints-output.js";
import { CliError } from "./errors.js";

const API_KEY_ENV = "KALLIMA_API_KEY";
const BASE_URL_ENV = "KALLIMA_BASE_URL";

/** What the `endpoints` commands need from the program that registers them. */
export interface EndpointsContext {
  io: CliIO;
  paint: Paint;
  exit: typeof EXIT;
  setExit(code: number): void;
}

interface ApiFlags {
  apiKey?: string;
  baseUrl?: string;
  timeout?: number;
  json?: boolean;
}

/**
 * Registers `kallima-webhooks endpoints …`: manage endpoints through Kallima's API (or the local
 * `kallima-webhooks dev` server) with `@kallima/webhooks-client`.
 */
export function registerEndpointsCommands(program: Command, context: EndpointsContext): void {
  const endpoints = program
    .command("endpoints")
    .description(
      `Manage webhook endpoints through Kallima's API: create, list, get, update, enable, disable, rotate, delete, test, deliveries, retry. The API key comes from --api-key or $${API_KEY_ENV}.`,
    );
  const { io, paint } = context;
  const out = (text: string) => io.stdout.write(`${text}\n`);
  const json = (value: unknown) => io.stdout.write(`${JSON.stringify(value)}\n`);

  /** Runs a call and sets the exit code; an API failure prints what went wrong and exits 1. */
  const run =
    <Flags extends ApiFlags, Args extends unknown[]>(
      call: (flags: Flags, ...args: Args) => Promise<number | undefined>,
    ) =>
    async (...args: [...Args, Flags, Command]) => {
      const flags = args.at(-2) as Flags;
      try {
        const code = await call(flags, ...(args.slice(0, -2) as Args));
        context.setExit(code ?? context.exit.ok);
      } catch (error) {
        if (!(error instanceof KallimaError)) throw error;
        // A bad id or option the client refused before sending anything: a usage error.
        if (error.code === "invalid_argument") throw new CliError("invalid_option", error.message);
        if (flags.json) json(apiFailureJson(error));
        else io.stderr.write(`${paint.bad("error:")} ${describeApiFailure(error)}\n`);
        context.setExit(context.exit.unexpected);
      }
    };

  const command = (name: string, description: string) =>
    addApiOptions(endpoints.command(name).description(description));

  const printHook = (flags: ApiFlags, hook: Webhook) =>
    flags.json ? json(hook) : out(webhookLines(hook, paint));

  /** A test or retry answer: exit 1 unless the endpoint answered 2xx. */
  const printDelivery = (flags: ApiFlags, delivery: WebhookDelivery): number => {
    const status = delivery.response_status;
    const accepted = status !== null && status >= 200 && status < 300;
    if (flags.json) json(delivery);
    else {
      out(deliveryLines(delivery, paint));
      if (!accepted) {
        out(
          `  ${paint.bad("the endpoint did not accept it: Kallima retries such deliveries. Check its URL, secret and logs.")}`,
        );
      }
    }
    return accepted ? context.exit.ok : context.exit.unexpected;
  };

  command("create", "Register an endpoint; prints its signing secret, once.")
    .argument("<url>", "where Kallima delivers, e.g. https://example.com/kallima-events")
    .option("--events <types>", "comma-separated event types (default: every type)")
    .option("--disabled", "register it paused")
    .action(
      run(async (flags: ApiFlags & { events?: string; disabled?: boolean }, url: string) => {
        parseUrl(url);
        const hook = await client(flags, io).webhooks.create({
          url,
          ...(flags.events === undefined ? {} : { events: parseEvents(flags.events) }),
          ...(flags.disabled ? { enabled: false } : {}),
        });
        if (flags.json) return void json(hook);
        out(`${paint.ok("✓ registered")} ${webhookLines(hook, paint)}`);
        out(secretBlock(hook.secret, paint));
        return undefined;
      }),
    );

  command("list", "List the endpoints, newest first.").action(
    run(async (flags: ApiFlags) => {
      const hooks = await client(flags, io).webhooks.list();
      flags.json ? json(hooks) : out(webhookTable(hooks, paint));
      return undefined;
    }),
  );

  command("get", "Show one endpoint.")
    .argument("<id>", "the endpoint's id")
    .action(
      run(async (flags: ApiFlags, id: string) => {
        printHook(flags, await client(flags, io).webhooks.retrieve(requireId(id)));
        return undefined;
      }),
    );

  command("update", "Change an endpoint's URL, events or state.")
    .argument("<id>", "the endpoint's id")
    .option("--url <url>", "the new URL")
    .addOption(new Option("--events <types>", "comma-separated event types").conflicts("allEvents"))
    .option("--all-events", "subscribe to every event type")
    .addOption(new Option("--enable", "resume deliveries").conflicts("disable"))
    .option("--disable", "pause deliveries")
    .action(
      run(
        async (
          flags: ApiFlags & {
            url?: string;
            events?: string;
            allEvents?: boolean;
            enable?: boolean;
            disable?: boolean;
          },
          id: string,
        ) => {
          if (flags.url !== undefined) parseUrl(flags.url);
          const params = {
            ...(flags.url === undefined ? {} : { url: flags.url }),
            ...(flags.events === undefined ? {} : { events: parseEvents(flags.events) }),
            ...(flags.allEvents ? { events: null } : {}),
            ...(flags.enable ? { enabled: true } : {}),
            ...(flags.disable ? { enabled: false } : {}),
          };
          if (Object.keys(params).length === 0) {
            throw new CliError(
              "invalid_option",
              "Nothing to update: give --url, --events, --all-events, --enable or --disable.",
            );
          }
          printHook(flags, await client(flags, io).webhooks.update(requireId(id), params));
          return undefined;
        },
      ),
    );

  command("enable", "Resume deliveries to an endpoint.")
    .argument("<id>", "the endpoint's id")
    .action(
      run(async (flags: ApiFlags, id: string) => {
        printHook(flags, await client(flags, io).webhooks.enable(requireId(id)));
        return undefined;
      }),
    );

  command("disable", "Pause an endpoint: Kallima sends it nothing until it is enabled.")
    .argument("<id>", "the endpoint's id")
    .action(
      run(async (flags: ApiFlags, id: string) => {
        printHook(flags, await client(flags, io).webhooks.disable(requireId(id)));
        return undefined;
      }),
    );

  command(
    "rotate",
    "Issue a new signing secret; the old one stops working at once. Have the receiver take the new secret beside the old one (secret: [new, old]) right away: what it refuses meanwhile is retried by Kallima.",
  )
    .argument("<id>", "the endpoint's id")
    .action(
      run(async (flags: ApiFlags, id: string) => {
        const hook = await client(flags, io).webhooks.rotateSecret(requireId(id));
        if (flags.json) return void json(hook);
        out(`${paint.ok("✓ secret rotated")} for ${webhookLines(hook, paint)}`);
        out(secretBlock(hook.secret, paint));
        out(
          [
            "",
            paint.bold("The old secret stopped working now. The safe order from here:"),
            "  1. give your receiver the new secret beside the old one (secret: [new, old]; it accepts either), and deploy;",
            "  2. deliveries it refuses until then fail, and Kallima retries them: none is lost;",
            "  3. once every instance runs with the new secret, remove the old one.",
          ].join("\n"),
        );
        return undefined;
      }),
    );

  command("delete", "Delete an endpoint; its pending deliveries are orphaned.")
    .argument("<id>", "the endpoint's id")
    .action(
      run(async (flags: ApiFlags, id: string) => {
        await client(flags, io).webhooks.delete(requireId(id));
        flags.json ? json({ id, deleted: true }) : out(`${paint.ok("✓ deleted")} ${id}`);
        return undefined;
      }),
    );

  addPathOption(
    command("test", "Send a webhook.test event to an endpoint now; exit 1 unless it answers 2xx."),
  )
    .argument("<id>", "the endpoint's id")
    .action(
      run(async (flags: ApiFlags & { path?: string }, id: string) => {
        const delivery = await client(flags, io).webhooks.test(requireId(id), pathOption(flags));
        return printDelivery(flags, delivery);
      }),
    );

  addPathOption(command("deliveries", "Show an endpoint's delivery history, newest first."))
    .argument("<id>", "the endpoint's id")
    .option("--limit <n>", "at most n deliveries", parseLimit, 20)
    .action(
      run(async (flags: ApiFlags & { path?: string; limit: number }, id: string) => {
        const deliveries = await client(flags, io).webhooks.listDeliveries(
          requireId(id),
          { limit: flags.limit },
          pathOption(flags),
        );
        flags.json ? json(deliveries) : out(deliveryTable(deliveries, paint));
        return undefined;
      }),
    );

  addPathOption(
    command("retry", "Send a delivery again now; exit 1 unless the endpoint answers 2xx."),
  )
    .argument("<delivery-id>", "the delivery's id (kallima-webhooks endpoints deliveries <id>)")
    .action(
      run(async (flags: ApiFlags & { path?: string }, deliveryId: string) => {
        const delivery = await client(flags, io).webhooks.retryDelivery(
          requireId(deliveryId, "<delivery-id>"),
          pathOption(flags),
        );
        return printDelivery(flags, delivery);
      }),
    );
}

function addApiOptions(command: Command): Command {
  return command
    .option("--api-key <key>", `Kallima API key; default $${API_KEY_ENV}`)
    .option("--base-url <url>", `API base URL; default $${BASE_URL_ENV}, else Kallima's`)
    .option("--timeout <ms>", "give up on an answer after ms (per attempt)", parseTimeout)
    .option("--json", "print the answer as JSON (errors too)");
}

function addPathOption(command: Command): Command {
  return command.option(
    "--path <template>",
    "replace the inferred API path, e.g. /v1/webhooks/{webhook_id}/test",
  );
}

function pathOption(flags: { path?: string }): InferredPathOptions | undefined {
  return flags.path === undefined ? undefined : { path: flags.path };
}

function client(flags: ApiFlags, io: CliIO): KallimaClient {
  const apiKey = flags.apiKey ?? io.env[API_KEY_ENV];
  if (apiKey === undefined || apiKey.trim() === "") {
    throw new CliError(
      "missing_api_key",
      `No API key: pass --api-key or set ${API_KEY_ENV} (the environment keeps it out of your shell history).`,
    );
  }
  const baseUrl = flags.baseUrl ?? (io.env[BASE_URL_ENV] || undefined);
  if (baseUrl !== undefined && !/^https?:\/\/[^/]/i.test(baseUrl)) {
    throw new CliError(
      "invalid_option",
      `--base-url must be an http(s) URL such as http://localhost:4010, got "${baseUrl}".`,
    );
  }
  return new KallimaClient({
    apiKey,
    ...(baseUrl === undefined ? {} : { baseUrl }),
    ...(flags.timeout === undefined ? {} : { timeoutMs: flags.timeout }),
  });
}

function requireId(id: string, name = "<id>"): string {
  if (id.trim() === "") throw new CliError("invalid_option", `${name} must not be empty.`);
  return id;
}

function parseEvents(value: string): string[] {
  const events = value.split(",").map((type) => type.trim());
  if (events.some((type) => type === "")) {
    throw new CliError(
      "invalid_option",
      `--events must list event types separated by commas (e.g. job.completed,job.failed), got "${value}". Leave it out (or use --all-events) for every type.`,
    );
  }
  return events;
}

function positiveWhole(name: string) {
  return (value: string): number => {
    const number = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < 1) {
      throw new CliError("invalid_option", `--${name} must be a whole number ≥ 1, got "${value}".`);
    }
    return number;
  };
}

const parseLimit = positiveWhole("limit");
const parseTimeout = positiveWhole("timeout");

function secretBlock(secret: string, paint: Paint): string {
  return [
    "",
    `  signing secret: ${paint.bold(secret)}`,
    `  ${paint.bad("⚠ store it now (your receiver's KALLIMA_WEBHOOK_SECRET): it is not shown again.")}`,
  ].join("\n");
}
