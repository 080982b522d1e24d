/**
 * One role process of the `psi-oprf` benchmark (forked by bench/psi-oprf.ts,
 * driven over IPC): one side of OPRF-PSI, or of ECDH-PSI for comparison,
 * over a loopback socket to its counterpart process. With several processes
 * per role, process 0 opens the session and the parent hands it to the
 * others; every process digests its slice of the rows into a shared spill
 * directory and runs the buckets b ≡ index (mod processes). It reports its
 * own CPU seconds (all threads), peak RSS, bytes written and phase times.
 */
import { connect, createServer, type Socket } from 'node:net';
import { Random, seedFrom } from '../../protocol/random.ts';
import {
  guestReceive,
  hostReceive,
  startGuest,
  startHost,
  type GuestPsiState,
  type HostPsiState,
  type PsiMessage,
} from '../../protocol/psi/psi-session.ts';
import { newScalar } from '../../protocol/psi/group.ts';
import { tandem } from '../../protocol/generated/tandem.js';
import { receiverResult, senderPositionRows, senderRowsAt } from '../../protocol/psi/oprf/results.ts';
import type { ReceiverBucketResult } from '../../protocol/psi/oprf/receiver-bucket.ts';
import type { SenderBucketResult } from '../../protocol/psi/oprf/sender-bucket.ts';
import type { ReceiverSession, SenderSession } from '../../protocol/psi/oprf/session.ts';
import { digestIntoBuckets, openReceiver, openSender } from '../../runtime/psi-oprf-driver.ts';
import { runBuckets, type OprfLink, type RoleSession } from '../../runtime/psi-workers.ts';
import { readBucket, spillIds } from '../../runtime/psi-spill.ts';
import { FrameSocket, oprfLink } from './link.ts';
import { firstElement, idChunks, type Population } from './ids.ts';

export type RoleConfig = {
  readonly protocol: 'oprf' | 'ecdh';
  readonly role: 'receiver' | 'sender';
  readonly index: number;
  readonly processes: number;
  readonly workers: number;
  readonly population: Population;
  readonly minBuckets: number;
  /** Spill directory shared by this role's processes; none: digests stay in memory (one process only). */
  readonly spillDir?: string;
};

export type RoleReport = {
  readonly role: 'receiver' | 'sender';
  readonly index: number;
  readonly cpuSeconds: number;
  readonly peakRssBytes: number;
  readonly bytesSent: number;
  /** Milliseconds from go to the end of each phase. */
  readonly phases: Record<string, number>;
  readonly generateSeconds: number;
  readonly buckets: number;
  /** Matches checked against the known answer (receiver, or sender with the result). */
  readonly matches: number;
  readonly wrong: number;
};

export type ParentMessage =
  | { readonly type: 'config'; readonly config: RoleConfig }
  | { readonly type: 'connect'; readonly port: number }
  | { readonly type: 'go' }
  | { readonly type: 'session'; readonly session: ReceiverSession | SenderSession }
  | { readonly type: 'run' };

export type ChildMessage =
  | { readonly type: 'listening'; readonly port: number }
  | { readonly type: 'connected' }
  | { readonly type: 'session'; readonly session: ReceiverSession | SenderSession }
  | { readonly type: 'spilled' }
  | { readonly type: 'buckets'; readonly results: readonly (ReceiverBucketResult | SenderBucketResult)[] }
  | { readonly type: 'report'; readonly report: RoleReport };

const DOMAIN_KEY = seedFrom('bench-psi-oprf', 'domain');

const inbox: ParentMessage[] = [];
const waiters: ((m: ParentMessage) => void)[] = [];
process.on('message', (m: ParentMessage) => {
  const waiter = waiters.shift();
  if (waiter === undefined) inbox.push(m);
  else waiter(m);
});

function next<T extends ParentMessage['type']>(type: T): Promise<Extract<ParentMessage, { type: T }>> {
  const m = inbox.shift();
  const check = (got: ParentMessage): Extract<ParentMessage, { type: T }> => {
    if (got.type !== type) throw new Error(`expected ${type} from the parent, got ${got.type}`);
    return got as Extract<ParentMessage, { type: T }>;
  };
  return m !== undefined
    ? Promise.resolve(check(m))
    : new Promise((resolve) => waiters.push((got) => resolve(check(got))));
}

function tell(m: ChildMessage): void {
  process.send?.(m);
}

/** The receiver side listens, the sender side connects: one socket per process pair. */
async function socketFor(config: RoleConfig): Promise<Socket> {
  if (config.role === 'receiver') {
    const server = createServer();
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    tell({ type: 'listening', port: typeof address === 'object' && address !== null ? address.port : 0 });
    const socket = await accepted;
    server.close();
    return socket;
  }
  const { port } = await next('connect');
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

function rowsOfRole(config: RoleConfig): number {
  return config.role === 'receiver' ? config.population.receiver : config.population.sender;
}

/** This process's slice of the rows. */
function slice(config: RoleConfig): { from: number; to: number } {
  const n = rowsOfRole(config);
  return {
    from: Math.floor((config.index * n) / config.processes),
    to: Math.floor(((config.index + 1) * n) / config.processes),
  };
}

async function runOprf(
  config: RoleConfig,
  frames: FrameSocket,
  mark: (phase: string) => void,
  spent: { ms: number },
): Promise<Pick<RoleReport, 'buckets' | 'matches' | 'wrong'>> {
  const link: OprfLink = oprfLink(frames);
  const secret = seedFrom('bench-psi-oprf', config.role);
  const count = rowsOfRole(config);
  let session: ReceiverSession | SenderSession;
  if (config.index === 0) {
    session =
      config.role === 'receiver'
        ? await openReceiver(link, { domainKey: DOMAIN_KEY, secret, count, minBuckets: config.minBuckets })
        : await openSender(link, { domainKey: DOMAIN_KEY, secret, count });
    if (config.processes > 1) tell({ type: 'session', session });
  } else {
    session = (await next('session')).session;
  }
  mark('session');
  const { buckets } = session.params;
  const first = firstElement(config.population, config.role);
  const mine = Array.from({ length: buckets }, (_, b) => b).filter((b) => b % config.processes === config.index);
  let itemsOf: (bucket: number) => ReturnType<typeof readBucket> | ReturnType<typeof digestIntoBuckets>[number];
  if (config.spillDir === undefined) {
    const items = digestIntoBuckets(DOMAIN_KEY, { count, chunks: () => idChunks(first, 0, count, spent) }, buckets);
    itemsOf = (b) => items[b] ?? { digests: new Uint8Array(0), rows: new Uint32Array(0) };
  } else {
    const { from, to } = slice(config);
    await spillIds(
      { dir: config.spillDir, part: config.index, domainKey: DOMAIN_KEY, buckets, firstRow: from },
      idChunks(first, from, to, spent),
    );
    tell({ type: 'spilled' });
    await next('run');
    const dir = config.spillDir;
    itemsOf = (b) => readBucket(dir, b);
  }
  mark('digest');
  const roleSession: RoleSession =
    config.role === 'receiver'
      ? { role: 'receiver', session: session as ReceiverSession }
      : { role: 'sender', session: session as SenderSession };
  const results = await runBuckets({ session: roleSession, buckets: mine, itemsOf, link }, config.workers);
  mark('buckets');
  if (config.processes > 1) {
    tell({ type: 'buckets', results });
    return { buckets, matches: 0, wrong: 0 };
  }
  const offset = config.population.receiver - config.population.shared;
  if (config.role === 'receiver') {
    const result = receiverResult('intersection', session.params, results as ReceiverBucketResult[]);
    if (result.mode !== 'intersection') throw new Error('not an intersection');
    await link.send({ step: 'psi-result', positions: result.senderPositions });
    mark('result');
    return {
      buckets,
      matches: result.receiverRows.length,
      wrong: result.receiverRows.filter((r) => r < offset).length,
    };
  }
  const positions = senderPositionRows(session.params, results as SenderBucketResult[]);
  const selection = await link.receive('psi-result', 0, 0);
  if (selection.step !== 'psi-result') throw new Error('expected psi-result');
  const rows = senderRowsAt(positions, selection.positions);
  mark('result');
  return { buckets, matches: rows.length, wrong: rows.filter((r) => r >= config.population.shared).length };
}

/** ECDH-PSI (psi-session.ts) with the same ids, blinding on this thread: the guest is the receiver. */
async function runEcdh(
  config: RoleConfig,
  frames: FrameSocket,
  mark: (phase: string) => void,
  spent: { ms: number },
): Promise<Pick<RoleReport, 'buckets' | 'matches' | 'wrong'>> {
  const count = rowsOfRole(config);
  const ids = [...idChunks(firstElement(config.population, config.role), 0, count, spent)].flat();
  const setup = {
    mode: 'intersection' as const,
    ids,
    domainKey: DOMAIN_KEY,
    scalar: newScalar(),
    permutation: new Random(newScalar()).permutation(count),
  };
  const send = (m: PsiMessage): Promise<void> =>
    frames.send(
      m.step,
      0,
      0,
      'elements' in m
        ? tandem.v1.PsiElements.encode({ elements: m.elements, count: m.elements.byteLength / 32 }).finish()
        : new Uint8Array(0),
    );
  const take = async (step: 'psi-guest-set' | 'psi-host-set' | 'psi-guest-reblinded'): Promise<PsiMessage> => ({
    step,
    elements: tandem.v1.PsiElements.decode(await frames.take(step, 0, 0)).elements,
  });
  const offset = config.population.receiver - config.population.shared;
  if (config.role === 'receiver') {
    const g = startGuest(setup);
    for (const m of g.outbound) await send(m);
    mark('own set');
    let state: GuestPsiState = g.state;
    for (const step of ['psi-host-set', 'psi-guest-reblinded'] as const)
      state = guestReceive(state, await take(step)).state;
    if (state.stage !== 'done' || state.result.mode !== 'intersection') throw new Error('ECDH guest did not finish');
    const matches = state.result.matches;
    const positions = Uint32Array.from(matches, (m) => m.hostPosition);
    await frames.send(
      'psi-result',
      0,
      0,
      tandem.v1.RowSelection.encode({ indices: new Uint8Array(positions.buffer), count: positions.length }).finish(),
    );
    mark('result');
    return { buckets: 1, matches: matches.length, wrong: matches.filter((m) => m.guestRow < offset).length };
  }
  const h = startHost(setup);
  for (const m of h.outbound) await send(m);
  mark('own set');
  let state: HostPsiState = h.state;
  const t = hostReceive(state, await take('psi-guest-set'));
  state = t.state;
  for (const m of t.outbound) await send(m);
  const selection = tandem.v1.RowSelection.decode(await frames.take('psi-result', 0, 0));
  const positions = new Uint32Array(new Uint8Array(selection.indices).buffer, 0, selection.count);
  state = hostReceive(state, { step: 'psi-result', positions, count: selection.count }).state;
  if (state.stage !== 'done' || state.result.mode !== 'intersection') throw new Error('ECDH host did not finish');
  mark('result');
  return {
    buckets: 1,
    matches: state.result.rows.length,
    wrong: Array.from(state.result.rows).filter((r) => r >= config.population.shared).length,
  };
}

async function main(): Promise<void> {
  const { config } = await next('config');
  const frames = new FrameSocket(await socketFor(config));
  tell({ type: 'connected' });
  await next('go');
  const start = performance.now();
  const cpu = process.cpuUsage();
  const phases: Record<string, number> = {};
  const mark = (phase: string): void => {
    phases[phase] = performance.now() - start;
  };
  const spent = { ms: 0 };
  const outcome =
    config.protocol === 'oprf'
      ? await runOprf(config, frames, mark, spent)
      : await runEcdh(config, frames, mark, spent);
  const used = process.cpuUsage(cpu);
  tell({
    type: 'report',
    report: {
      role: config.role,
      index: config.index,
      cpuSeconds: (used.user + used.system) / 1e6,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      bytesSent: frames.bytesSent,
      phases,
      generateSeconds: spent.ms / 1000,
      ...outcome,
    },
  });
  // Let the peer read what we sent before the socket closes.
  await new Promise((resolve) => setTimeout(resolve, 200));
  frames.close();
  process.disconnect();
}

void main().catch((error: unknown) => {
  process.stderr.write(`psi-oprf role failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
