/** Text helpers shared by the report's HTML and SVG builders: escaping and number formats for people. */

/** A value that may be missing: JSON writes a missing or NaN metric as null. */
export type Num = number | null | undefined;

/** Escapes text for HTML and XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

/** True for a number that can be shown (not undefined, null, NaN or infinite). */
export function isShown(x: number | null | undefined): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

/** `0.724` (three decimals); "n/a" when there is no value. */
export function decimal(x: Num, digits = 3): string {
  return isShown(x) ? x.toFixed(digits) : 'n/a';
}

/** `+0.061` / `−0.004`: a signed difference, with a real minus sign. */
export function signed(x: Num, digits = 3): string {
  if (!isShown(x)) return 'n/a';
  const text = Math.abs(x).toFixed(digits);
  if (Number(text) === 0) return `±${text}`;
  return x > 0 ? `+${text}` : `−${text}`;
}

/** `32.4%` for 0.324. */
export function percent(x: Num, digits = 1): string {
  return isShown(x) ? `${(100 * x).toFixed(digits)}%` : 'n/a';
}

/** `1.59×` for a lift of 1.59. */
export function times(x: Num, digits = 2): string {
  return isShown(x) ? `${x.toFixed(digits)}×` : 'n/a';
}

/** `30,000`. */
export function count(x: Num): string {
  return isShown(x) ? Math.round(x).toLocaleString('en-US') : 'n/a';
}

/** `12.3 s`, `4 min 05 s`, `1 h 02 min`. */
export function duration(seconds: Num): string {
  if (!isShown(seconds) || seconds < 0) return 'n/a';
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** `2026-05-01 14:03 UTC` from an ISO time; the input unchanged if it does not parse. */
export function when(iso: string | null | undefined): string {
  if (iso === undefined || iso === null || iso === '') return 'n/a';
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** "a", "a and b", "a, b and c". */
export function list(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1] ?? ''}`;
}
