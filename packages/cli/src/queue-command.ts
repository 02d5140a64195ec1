import type { DeadLetter, DeadLetterFilter, WebhookQueue } from "@kallima/webhooks";
import { type Command, Option } from "commander";
import { CliError } from "./errors.js";

/** Where the queue command group writes, and how it sets the exit code. */
export interface QueueCommandIO {
  stdout: { write(chunk: string): unknown };
  setExit(code: number): void;
}

interface DriverFlags {
  sqlite?: string;
  redis?: string;
  name?: string;
  prefix?: string;
  json?: boolean;
}

interface FilterFlags extends DriverFlags {
  type?: string[];
  since?: string;
}

interface ReplayFlags extends FilterFlags {
  failed?: boolean;
}

/** Redis connection options from a `redis://` or `rediss://` URL. */
export function redisConnectionOf(url: string): Record<string, unknown> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError("invalid_option", `--redis must be a redis:// URL, got "${url}".`);
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new CliError("invalid_option", `--redis must be a redis:// URL, got "${url}".`);
  }
  const db = parsed.pathname.replace(/^\//, "");
  return {
    host: parsed.hostname || "127.0.0.1",
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(parsed.protocol === "rediss:" ? { tls: {} } : {}),
    // One attempt, then a clear error: a command line should not wait for a Redis that is down.
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
  };
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: an ISO 8601 time, or an age such as `30m`, `12h`, `7d`. Epoch milliseconds. */
export function parseSince(value: string, now = Date.now()): number {
  const age = /^(\d+)([smhd])$/.exec(value);
  if (age) return now - Number(age[1]) * UNITS[age[2]!]!;
  const time = Date.parse(value);
  if (Number.isNaN(time)) {
    throw new CliError(
      "invalid_option",
      `--since must be a time (2026-12-01T00:00:00Z) or an age (30m, 12h, 7d), got "${value}".`,
    );
  }
  return time;
}

async function importDriver<T>(specifier: string, flag: string): Promise<T> {
  try {
    return (await import(specifier)) as T;
  } catch (cause) {
    throw new CliError(
      "invalid_option",
      `${flag} needs ${specifier}: install it beside the CLI (npm install ${specifier}).`,
      { cause },
    );
  }
}

/** Opens the queue the flags name: `--sqlite <file>` or `--redis <url>`. */
export async function openQueue(flags: DriverFlags): Promise<WebhookQueue> {
  if ((flags.sqlite === undefined) === (flags.redis === undefined)) {
    throw new CliError(
      "invalid_option",
      "Name the queue with one of --sqlite <file> (@kallima/webhooks-sqlite) or --redis <url> (@kallima/webhooks-bullmq).",
    );
  }
  if (flags.sqlite !== undefined) {
    const { sqliteQueue } = await importDriver<{
      sqliteQueue(options: { path: string }): WebhookQueue;
    }>("@kallima/webhooks-sqlite", "--sqlite");
    return sqliteQueue({ path: flags.sqlite });
  }
  const { bullmqQueue } = await importDriver<{
    bullmqQueue(options: { connection: object; name?: string; prefix?: string }): WebhookQueue;
  }>("@kallima/webhooks-bullmq", "--redis");
  return bullmqQueue({
    connection: redisConnectionOf(flags.redis!),
    ...(flags.name ? { name: flags.name } : {}),
    ...(flags.prefix ? { prefix: flags.prefix } : {}),
  });
}

function filterOf(flags: FilterFlags): DeadLetterFilter {
  return {
    ...(flags.type && flags.type.length > 0 ? { types: flags.type } : {}),
    ...(flags.since ? { since: parseSince(flags.since) } : {}),
  };
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0] ?? "";
}

function describeLetter(letter: DeadLetter): string {
  return `${letter.eventId}  ${letter.eventType}  ${letter.attempts} attempts  failed ${new Date(
    letter.failedAt,
  ).toISOString()}\n    ${firstLine(letter.lastError)}\n`;
}

async function withQueue(flags: DriverFlags, run: (queue: WebhookQueue) => Promise<void>) {
  const queue = await openQueue(flags);
  try {
    await run(queue);
  } finally {
    await queue.close();
  }
}

function driverOptions(command: Command): Command {
  return command
    .option("--sqlite <file>", "the SQLite queue file (@kallima/webhooks-sqlite)")
    .option("--redis <url>", "the Redis of the BullMQ queue (@kallima/webhooks-bullmq)")
    .option("--name <queue>", "BullMQ queue name (default kallima-webhooks)")
    .option("--prefix <prefix>", "BullMQ key prefix (default bull)")
    .option("--json", "print JSON instead of text");
}

function filterOptions(command: Command): Command {
  return command
    .addOption(
      new Option("--type <type...>", "only these event types (repeatable)").argParser(
        (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
      ),
    )
    .option("--since <time>", "only those dead-lettered since: a time, or an age (30m, 12h, 7d)");
}

/**
 * Registers `kallima-webhooks queue stats | failed | replay` on the program: the queue of queue
 * mode, on SQLite (`--sqlite <file>`) or BullMQ (`--redis <url>`).
 */
export function registerQueueCommands(program: Command, io: QueueCommandIO): void {
  const queue = program
    .command("queue")
    .description(
      "Inspect queue mode's queue: job counts, dead letters, replays (--sqlite <file> or --redis <url>).",
    );

  driverOptions(queue.command("stats").description("Count jobs by state.")).action(
    async (flags: DriverFlags) =>
      withQueue(flags, async (opened) => {
        const stats = await opened.stats();
        if (flags.json) io.stdout.write(`${JSON.stringify(stats)}\n`);
        else {
          for (const [state, count] of Object.entries(stats)) {
            io.stdout.write(`${state.padEnd(8)} ${count}\n`);
          }
        }
        io.setExit(0);
      }),
  );

  filterOptions(
    driverOptions(
      queue.command("failed").description("List dead-lettered events with their last error."),
    ),
  ).action(async (flags: FilterFlags) =>
    withQueue(flags, async (opened) => {
      const letters = await opened.failed(filterOf(flags));
      if (flags.json) io.stdout.write(`${JSON.stringify(letters)}\n`);
      else if (letters.length === 0) io.stdout.write("no dead letters\n");
      else for (const letter of letters) io.stdout.write(describeLetter(letter));
      io.setExit(0);
    }),
  );

  filterOptions(
    driverOptions(
      queue
        .command("replay")
        .description(
          "Run an event again (dead-lettered or done), or every dead letter with --failed.",
        )
        .argument("[event-id]", "the event to replay")
        .option("--failed", "replay every dead letter (narrowed by --type and --since)"),
    ),
  ).action(async (eventId: string | undefined, flags: ReplayFlags) => {
    if ((eventId === undefined) === (flags.failed !== true)) {
      throw new CliError("invalid_option", "Give an event id, or --failed, not both.");
    }
    if (eventId !== undefined && (flags.type || flags.since)) {
      throw new CliError("invalid_option", "--type and --since go with --failed.");
    }
    await withQueue(flags, async (opened) => {
      const ids =
        eventId !== undefined
          ? [eventId]
          : (await opened.failed(filterOf(flags))).map((letter) => letter.eventId);
      const replayed: string[] = [];
      const skipped: string[] = [];
      for (const id of ids) ((await opened.replay(id)) ? replayed : skipped).push(id);
      if (flags.json) io.stdout.write(`${JSON.stringify({ replayed, skipped })}\n`);
      else {
        for (const id of replayed) io.stdout.write(`replayed ${id}\n`);
        for (const id of skipped) {
          io.stdout.write(`not replayed ${id}: unknown, or still waiting or running\n`);
        }
        if (ids.length === 0) io.stdout.write("no dead letters to replay\n");
      }
      // One id that could not be replayed is a failure; --failed with none left is not.
      io.setExit(skipped.length > 0 ? 1 : 0);
    });
  });
}
