/**
 * Observers of what crosses a node boundary, for the wire-capture privacy
 * test and for debugging. Two layers: `link` is every serialized envelope
 * a node writes to or reads from a gRPC stream (exactly the bytes TLS
 * carries); `body` is a party's message body before it is sealed, i.e.
 * what the recipient reads after opening it. With no tap installed the
 * hooks cost one length check.
 */
export type WireEvent =
  | { readonly layer: 'link'; readonly direction: 'out' | 'in'; readonly bytes: Uint8Array }
  | {
      readonly layer: 'body';
      readonly from: string;
      readonly to: string;
      readonly step: string;
      readonly kind: string;
      readonly bytes: Uint8Array;
    };

type Tap = (event: WireEvent) => void;

const taps = new Set<Tap>();

/** Installs a tap; returns a function that removes it. */
export function addWireTap(tap: Tap): () => void {
  taps.add(tap);
  return () => void taps.delete(tap);
}

export function emitWire(event: WireEvent): void {
  if (taps.size === 0) return;
  for (const tap of taps) tap(event);
}

export function wireTapped(): boolean {
  return taps.size > 0;
}
