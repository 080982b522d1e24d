/**
 * Job setup: every party publishes a per-job X25519 sealing key, signed with
 * its node key; the coordinator collects them into a directory; each party
 * checks every other entry against the federation CA (certificate chain,
 * name, signature) before it will seal anything for that party.
 */
import { X509Certificate } from 'node:crypto';
import {
  exportSealingPrivateKey,
  generateSealingKeyPair,
  importSealingKeyPair,
  partyKeyStatement,
} from '../../protocol/crypto/sealing.ts';
import { sign, verify } from '../../protocol/crypto/signing.ts';
import { KEY_DIRECTORY, PARTY_KEY } from '../../protocol/messages.ts';
import { AuthError } from '../../protocol/errors.ts';
import { COORDINATOR } from '../../protocol/version.ts';
import { verifyPeerCertificate, type NodeIdentity } from '../../runtime/certs.ts';
import type { JobChannel } from '../../party/channel.ts';
import type { JobCheckpoint } from '../../party/checkpoint.ts';

/** Returns the verified peer keys. `own` is given when resuming (peers already seal to it). */
export async function exchangeSealingKeys(
  channel: JobChannel,
  identity: NodeIdentity,
  parties: readonly string[],
  own = generateSealingKeyPair(),
): Promise<Map<string, Uint8Array>> {
  const signature = sign(identity.privateKey, partyKeyStatement(channel.jobId, channel.me, own.publicKey));
  channel.post(COORDINATOR, PARTY_KEY, 0, {
    party: channel.me,
    jobId: channel.jobId,
    x25519PublicKey: own.publicKey,
    certificateDer: identity.certDer,
    signature,
  });
  const directory = await channel.take(COORDINATOR, KEY_DIRECTORY, 0);
  const peers = new Map<string, Uint8Array>();
  for (const raw of directory.keys) {
    const entry = {
      party: raw.party ?? '',
      certificateDer: raw.certificateDer ?? new Uint8Array(),
      x25519PublicKey: raw.x25519PublicKey ?? new Uint8Array(),
      signature: raw.signature ?? new Uint8Array(),
    };
    if (entry.party === channel.me) continue;
    if (!parties.includes(entry.party))
      throw new AuthError(
        'AUTH_NOT_ALLOWED',
        `the key directory lists "${entry.party}", which is not a party to job ${channel.jobId}`,
      );
    const name = verifyPeerCertificate(entry.certificateDer, identity.caPem, new Date());
    if (name !== entry.party)
      throw new AuthError(
        'AUTH_CERTIFICATE_REJECTED',
        `the sealing key for "${entry.party}" comes with a certificate for "${name}"`,
      );
    const signer = new X509Certificate(Buffer.from(entry.certificateDer)).publicKey;
    if (!verify(signer, partyKeyStatement(channel.jobId, entry.party, entry.x25519PublicKey), entry.signature)) {
      throw new AuthError(
        'AUTH_CERTIFICATE_REJECTED',
        `the sealing key for "${entry.party}" is not signed by its certificate's key`,
      );
    }
    peers.set(entry.party, entry.x25519PublicKey);
  }
  for (const p of parties) {
    if (p !== channel.me && !peers.has(p))
      throw new AuthError('AUTH_NOT_ALLOWED', `the key directory has no key for "${p}"`);
  }
  channel.setSealing(own, peers);
  return peers;
}

/**
 * Job setup that survives a restart: the sealing key pair is saved before
 * its public half is published, and the verified peer keys once known.
 */
export async function durableSealingKeys(
  checkpoint: JobCheckpoint | undefined,
  channel: JobChannel,
  identity: NodeIdentity,
  parties: readonly string[],
): Promise<void> {
  if (checkpoint === undefined) {
    await exchangeSealingKeys(channel, identity, parties);
    return;
  }
  const own = importSealingKeyPair(
    await checkpoint.keep('sealing-key', () => exportSealingPrivateKey(generateSealingKeyPair())),
  );
  const peers = checkpoint.kept<Map<string, Uint8Array>>('sealing-peers');
  if (peers === undefined)
    await checkpoint.keep('sealing-peers', () => exchangeSealingKeys(channel, identity, parties, own));
  else channel.setSealing(own, peers);
}
