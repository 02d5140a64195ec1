import { stripVTControlCharacters } from "node:util";
import { CASES, type CellResult, COMBINED_PREFIX } from "./scenario.js";

export interface Paint {
  ok(text: string): string;
  bad(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

export function painter(enabled: boolean): Paint {
  const wrap = (open: number, close: number) => (text: string) =>
    enabled ? `\u001b[${open}m${text}\u001b[${close}m` : text;
  return { ok: wrap(32, 39), bad: wrap(31, 39), dim: wrap(2, 22), bold: wrap(1, 22) };
}

export interface Writable {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/**
 * The progress line while examples build and start. On a terminal it is one line redrawn in place
 * (with elapsed seconds, since `next build` takes a while); elsewhere one line per change.
 */
export class Progress {
  readonly #out: Writable;
  readonly #live: boolean;
  readonly #paint: Paint;
  readonly #states = new Map<string, string>();
  readonly #started = Date.now();
  #phase = "";
  #timer: NodeJS.Timeout | undefined;
  #drawn = false;

  constructor(out: Writable, live: boolean, paint: Paint) {
    this.#out = out;
    this.#live = live;
    this.#paint = paint;
    if (live) {
      this.#timer = setInterval(() => this.#draw(), 500);
      this.#timer.unref();
    }
  }

  phase(text: string): void {
    this.#phase = text;
    if (this.#live) this.#draw();
    else this.#out.write(`${text}\n`);
  }

  set(name: string, state: string): void {
    if (this.#states.get(name) === state) return;
    this.#states.set(name, state);
    if (this.#live) this.#draw();
    else this.#out.write(`  ${name}: ${state}\n`);
  }

  /** Prints a line above the progress line. */
  log(line: string): void {
    this.#clear();
    this.#out.write(`${line}\n`);
    if (this.#live) this.#draw();
  }

  done(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#clear();
  }

  #clear(): void {
    if (this.#live && this.#drawn) this.#out.write("\r\u001b[2K");
    this.#drawn = false;
  }

  #draw(): void {
    const seconds = Math.round((Date.now() - this.#started) / 1000);
    const states = [...this.#states].map(([name, state]) => `${name} ${state}`).join(" · ");
    const line = `${this.#paint.dim(`[${seconds}s]`)} ${this.#phase}${states ? ` ${states}` : ""}`;
    this.#out.write(`\r\u001b[2K${line}`);
    this.#drawn = true;
  }
}

/** A column (one framework route): its label and one cell per delivery, or why it has none. */
export interface TableColumn {
  label: string;
  cells?: CellResult[];
  /** Why there are no cells (not started). */
  failure?: string;
}

function cellText(cell: CellResult | undefined, failure: string | undefined): string {
  if (!cell) return failure ?? "—";
  if (cell.status === undefined) return "no answer";
  return `${cell.status} ${cell.ran ? "ran" : "—"}`;
}

const visibleLength = (text: string) => [...stripVTControlCharacters(text)].length;
const pad = (text: string, width: number) =>
  text + " ".repeat(Math.max(0, width - visibleLength(text)));

/**
 * The result table: one row per delivery, one column per framework route, each cell the status
 * and whether the handler ran, marked ✓ or ✗ against the expected answer; then which header
 * format the rows were signed in.
 */
export function renderTable(columns: TableColumn[], paint: Paint): string {
  const labelWidth = Math.max("delivery".length, ...CASES.map((c) => c.label.length)) + 2;
  const expectedWidth = Math.max("expected".length, ...CASES.map((c) => c.expectedText.length)) + 2;
  const widths = columns.map((column) => Math.max(column.label.length, "✗ not started".length) + 2);
  const lines: string[] = [];
  lines.push(
    paint.bold(
      (
        pad("delivery", labelWidth) +
        pad("expected", expectedWidth) +
        columns.map((column, i) => pad(column.label, widths[i]!)).join("")
      ).trimEnd(),
    ),
  );
  for (const deliveryCase of CASES) {
    let line =
      pad(deliveryCase.label, labelWidth) +
      paint.dim(pad(deliveryCase.expectedText, expectedWidth));
    columns.forEach((column, i) => {
      const cell = column.cells?.find((c) => c.caseId === deliveryCase.id);
      const ok = cell?.ok === true;
      const text = `${ok ? "✓" : "✗"} ${cellText(cell, column.failure ? "not started" : undefined)}`;
      line += pad(ok ? paint.ok(text) : paint.bad(text), widths[i]!);
    });
    lines.push(line.trimEnd());
  }
  lines.push(
    paint.dim(
      `signed with X-Kallima-Signature + X-Kallima-Timestamp; ${COMBINED_PREFIX} rows with Kallima-Signature: t=…,v1=…`,
    ),
  );
  return lines.join("\n");
}
