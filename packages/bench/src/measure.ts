import { Bench } from "tinybench";

/**
 * One thing to time: `run` does exactly one operation and `check` throws unless its result is
 * the expected success, so that no row can count failures as work done.
 */
export interface Case {
  name: string;
  run: () => unknown;
  check: (result: unknown) => void;
  /** `run` returns a promise, awaited once per operation as a caller would (part of its cost). */
  async?: boolean;
}

export interface Measured {
  name: string;
  /** Median over rounds of each round's median operations per second. */
  opsPerSec: number;
  /** Each round's median operations per second, to show the spread. */
  rounds: number[];
  /** Samples taken, over all rounds. */
  samples: number;
}

export interface MeasureSettings {
  /** Time budget per case per round, in ms. */
  timeMs: number;
  warmupMs: number;
  /** Minimum samples per case per round. */
  minSamples: number;
  /** Rounds; cases alternate order each round so that drift on a shared machine hits all alike. */
  rounds: number;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Times every case. Each sample runs `batch` operations back to back and records their mean,
 * so that timer overhead stays small next to a 256-byte verification (a few µs).
 */
export async function measure(
  cases: readonly Case[],
  batch: number,
  settings: MeasureSettings,
): Promise<Measured[]> {
  for (const c of cases) {
    try {
      c.check(c.async ? await c.run() : c.run());
    } catch (cause) {
      throw new Error(`"${c.name}" failed its first, untimed operation.`, { cause });
    }
  }
  const perRound = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  const samples = new Map<string, number>(cases.map((c) => [c.name, 0]));
  for (let round = 0; round < settings.rounds; round += 1) {
    const bench = new Bench({
      time: settings.timeMs,
      warmupTime: settings.warmupMs,
      warmupIterations: Math.min(16, settings.minSamples),
      iterations: settings.minSamples,
      throws: true,
    });
    const ordered = round % 2 === 0 ? cases : [...cases].reverse();
    for (const c of ordered) {
      if (c.async) {
        bench.add(
          c.name,
          async () => {
            const start = bench.now();
            for (let i = 0; i < batch; i += 1) c.check(await c.run());
            const elapsed = bench.now() - start;
            return { overriddenDuration: elapsed / batch, overriddenIterationCost: elapsed };
          },
          { async: true },
        );
      } else {
        bench.add(
          c.name,
          () => {
            const start = bench.now();
            for (let i = 0; i < batch; i += 1) c.check(c.run());
            const elapsed = bench.now() - start;
            return { overriddenDuration: elapsed / batch, overriddenIterationCost: elapsed };
          },
          { async: false },
        );
      }
    }
    await bench.run();
    for (const task of bench.tasks) {
      const result = task.result;
      if (result.state !== "completed") {
        throw new Error(`Benchmark "${task.name}" ended in state ${result.state}.`);
      }
      perRound.get(task.name)!.push(result.throughput.p50);
      samples.set(task.name, samples.get(task.name)! + result.latency.samplesCount);
    }
  }
  return cases.map((c) => ({
    name: c.name,
    opsPerSec: median(perRound.get(c.name)!),
    rounds: perRound.get(c.name)!,
    samples: samples.get(c.name)!,
  }));
}
