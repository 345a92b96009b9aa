/**
 * Access to the calling thread's reactor: created on first use, configured by
 * `configureReactor`, observed through `getReactorStats`.
 */
import { loadBinding, type NativeBinding } from './binding';
import { type ReactorOptions, resolveReactorOptions } from './options';
import { kDefaultReactorConfig, Reactor } from './reactor';
import type { ReactorStats } from './reactor-stats';

/**
 * The reactor is stored on the binding object (one per thread), not in a module variable, so that
 * copies of this module loaded twice in one thread (duplicate installs, test runners with module
 * registries) share the thread's single native reactor instead of failing to start a second one.
 */
const kReactor = Symbol.for('netpoll.core.reactor');

let current: Reactor | undefined;
let configured: Readonly<Required<ReactorOptions>> | undefined;

/**
 * The reactor of the calling thread, created on first use (this loads the addon). Each worker
 * thread gets its own. `binding` is for tests and advanced use.
 */
export function getReactor(binding?: NativeBinding): Reactor {
  if (current !== undefined) return current;
  const native = binding ?? loadBinding();
  const holder = native as unknown as Record<symbol, Reactor | undefined>;
  const existing = holder[kReactor];
  if (existing !== undefined) {
    if (configured !== undefined) existing.configure(configured);
    current = existing;
  } else {
    current = new Reactor(native, { ...kDefaultReactorConfig, ...configured });
  }
  holder[kReactor] = current;
  return current;
}

/**
 * Sets the inbound memory of this thread's reactor (see {@link ReactorOptions}): the slab size
 * and the cap up to which slabs are added while every slab is referenced; past the cap, reading
 * stalls (TCP backpressure) until memory is released. Call it before the first listener or dial
 * to size the two start-up slabs too; later calls apply to slabs allocated afterwards. Does not
 * load the addon. Throws `ERR_NETPOLL_INVALID_ARG` / `ERR_NETPOLL_OUT_OF_RANGE`.
 */
export function configureReactor(options: ReactorOptions): void {
  configured = resolveReactorOptions(options);
  current?.configure(configured);
}

/**
 * Debug counters of this thread's reactor (see {@link ReactorStats}). Cheap: reads plain numbers.
 * Throws `ERR_NETPOLL_CLOSED` never; creates the reactor if needed.
 */
export function getReactorStats(): ReactorStats {
  return getReactor().stats();
}

/** @internal Used by tests that assert a reactor exists without creating one. */
export function peekReactor(): Reactor | undefined {
  return current;
}
