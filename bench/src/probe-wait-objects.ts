/**
 * Heap bytes that one open long-poll's bookkeeping holds, piece by piece (docs/decisions/024): each
 * shape is made 20,000 times and kept, and the heap is compared after a full collection. Needs the gc()
 * hook:
 *
 *   cd bench && node --expose-gc --import tsx src/probe-wait-objects.ts
 */
const N = 20_000;

function heapUsed(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with node --expose-gc");
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

async function bytesEach(name: string, make: () => unknown): Promise<void> {
  const kept: unknown[] = new Array(N);
  const before = heapUsed();
  for (let i = 0; i < N; i++) kept[i] = make();
  await new Promise((resolve) => setImmediate(resolve));
  const after = heapUsed();
  console.log(`${((after - before) / N).toFixed(0).padStart(6)} B  ${name}`);
  for (const item of kept) (item as { dispose?: () => void } | undefined)?.dispose?.();
}

const never = new Promise<void>(() => {});
async function waits(): Promise<number> {
  await never;
  return 1;
}
async function waitsOn(inner: () => Promise<number>): Promise<number> {
  return (await inner()) + 1;
}

await bytesEach("nothing (the array slot)", () => undefined);
await bytesEach("AbortController", () => new AbortController());
await bytesEach("AbortController with one abort listener", () => {
  const controller = new AbortController();
  controller.signal.addEventListener("abort", () => {}, { once: true });
  return controller;
});
await bytesEach("setTimeout (one Timeout per wait)", () => {
  const timer = setTimeout(() => {}, 600_000);
  return { dispose: () => clearTimeout(timer) };
});
await bytesEach("a pending promise and its resolve function", () => {
  let resolve!: () => void;
  const promise = new Promise<void>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
});
await bytesEach("one suspended async function", () => waits());
await bytesEach("three nested suspended async functions", () => waitsOn(() => waitsOn(waits)));
await bytesEach("one-element array, made by concat()", () => ([] as Array<() => void>).concat(() => {}));
await bytesEach("one-element array, made by push() onto []", () => {
  const list: Array<() => void> = [];
  list.push(() => {});
  return list;
});
