/**
 * Job setup: every party publishes a per-job X25519 sealing key, signed with
 * its node key; the coordinator collects them into a directory; each party
 * checks every other entry against the federation CA (certificate chain,
 * name, signature) before it will seal anything for that party.
 */
import { X509Certificate } from 'node:crypto';
import { tandem } from '../../protocol/generated/tandem.js';
import { generateSealingKeyPair, partyKeyStatement } from '../../protocol/crypto/sealing.ts';
import { sign, verify } from '../../protocol/crypto/signing.ts';
import { decodeBody } from '../../protocol/wire/envelope.ts';
import { AuthError } from '../../protocol/errors.ts';
import { COORDINATOR } from '../../protocol/version.ts';
import { verifyPeerCertificate, type NodeIdentity } from '../../runtime/certs.ts';
import type { JobChannel } from './channel.ts';

/** Returns the verified peer keys. `own` is given when resuming (peers already seal to it). */
export async function exchangeSealingKeys(channel: JobChannel, identity: NodeIdentity, parties: readonly string[], own = generateSealingKeyPair()): Promise<Map<string, Uint8Array>> {
  const signature = sign(identity.privateKey, partyKeyStatement(channel.jobId, channel.me, own.publicKey));
  const key = tandem.v1.PartyKey.encode({ party: channel.me, jobId: channel.jobId, x25519PublicKey: own.publicKey, certificateDer: identity.certDer, signature }).finish();
  channel.send(COORDINATOR, 'party-key', 0, 'key', key);
  const directory = decodeBody(tandem.v1.KeyDirectory, await channel.receive(COORDINATOR, 'key-directory', 0), 'key-directory');
  const peers = new Map<string, Uint8Array>();
  for (const raw of directory.keys) {
    const entry = { party: raw.party ?? '', certificateDer: raw.certificateDer ?? new Uint8Array(), x25519PublicKey: raw.x25519PublicKey ?? new Uint8Array(), signature: raw.signature ?? new Uint8Array() };
    if (entry.party === channel.me) continue;
    if (!parties.includes(entry.party)) throw new AuthError('AUTH_NOT_ALLOWED', `the key directory lists "${entry.party}", which is not a party to job ${channel.jobId}`);
    const name = verifyPeerCertificate(entry.certificateDer, identity.caPem, new Date());
    if (name !== entry.party) throw new AuthError('AUTH_CERTIFICATE_REJECTED', `the sealing key for "${entry.party}" comes with a certificate for "${name}"`);
    const signer = new X509Certificate(Buffer.from(entry.certificateDer)).publicKey;
    if (!verify(signer, partyKeyStatement(channel.jobId, entry.party, entry.x25519PublicKey), entry.signature)) {
      throw new AuthError('AUTH_CERTIFICATE_REJECTED', `the sealing key for "${entry.party}" is not signed by its certificate's key`);
    }
    peers.set(entry.party, entry.x25519PublicKey);
  }
  for (const p of parties) {
    if (p !== channel.me && !peers.has(p)) throw new AuthError('AUTH_NOT_ALLOWED', `the key directory has no key for "${p}"`);
  }
  channel.setSealing(own, peers);
  return peers;
}

