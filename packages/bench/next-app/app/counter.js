// One count per process, shared by the route modules (each is its own module instance).
const KEY = Symbol.for("kallima.bench.handled");

export function countHandled() {
  globalThis[KEY] = (globalThis[KEY] ?? 0) + 1;
}

export function handled() {
  return globalThis[KEY] ?? 0;
}
