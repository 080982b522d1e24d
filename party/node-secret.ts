/**
 * A per-node secret (`<dataDir>/node-secret`, 32 random bytes, mode 0600,
 * created on first use) for choices other parties must not be able to
 * replay, such as the guest's validation split: the same job seed gives the
 * same choice at the same node, and nothing another party can compute.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** HMAC-SHA256 of `tandem/v1/<purpose>|<jobSeed>` under this node's secret, hex. */
export async function nodeSecretSeed(dataDir: string, purpose: string, jobSeed: string): Promise<string> {
  const file = join(dataDir, 'node-secret');
  let secret: Buffer;
  try {
    secret = await readFile(file);
  } catch {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await writeFile(file, randomBytes(32), { mode: 0o600, flag: 'wx' }).catch(() => undefined);
    secret = await readFile(file);
  }
  return createHmac('sha256', secret).update(`tandem/v1/${purpose}|${jobSeed}`).digest('hex');
}
