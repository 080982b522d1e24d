/**
 * The console's pages: hand-written HTML, CSS and ES modules shipped in
 * console/static, read once at start into memory and served from there.
 * No build step, no CDN, nothing fetched from anywhere; the page's Content
 * Security Policy (console/http.ts) allows only these files.
 */
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';

export const STATIC_DIR = join(import.meta.dirname, 'static');

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export type Asset = { readonly body: Buffer; readonly type: string };

/** Every file of console/static by name (no subdirectories). */
export async function loadStaticAssets(dir: string = STATIC_DIR): Promise<ReadonlyMap<string, Asset>> {
  const assets = new Map<string, Asset>();
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const type = TYPES[extname(entry.name)];
    if (!entry.isFile() || type === undefined) continue;
    assets.set(entry.name, { body: await readFile(join(dir, entry.name)), type });
  }
  return assets;
}
