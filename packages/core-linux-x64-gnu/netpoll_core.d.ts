/**
 * The @netpoll/core native addon for this platform. Load it through @netpoll/core, whose
 * `NativeBinding` interface describes it; this package only carries the binary.
 */
declare const addon: { readonly [name: string]: unknown };
export = addon;
