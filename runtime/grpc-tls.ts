/**
 * The one place gRPC meets TLS. Both ends trust only the federation CA (never
 * the system roots), the server demands a client certificate, and a server
 * handler learns who called from the certificate TLS verified, re-checked
 * here against the CA and the clock, never from anything the caller says.
 */
import * as grpc from '@grpc/grpc-js';
import { AuthError } from '../protocol/errors.ts';
import { verifyPeerCertificate, type NodeIdentity } from './certs.ts';

/**
 * mTLS server credentials: the node's certificate, and client certificates
 * required and verified against the federation CA during the handshake.
 */
export function serverCredentials(identity: NodeIdentity): grpc.ServerCredentials {
  return grpc.ServerCredentials.createSsl(
    Buffer.from(identity.caPem),
    [{ cert_chain: Buffer.from(identity.certPem), private_key: Buffer.from(identity.keyPem) }],
    true,
  );
}

/**
 * mTLS channel credentials: presents the node's certificate and accepts only
 * a server certificate from the federation CA whose SANs match the dialled
 * host (grpc-js's default hostname check).
 */
export function channelCredentials(identity: NodeIdentity): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(
    Buffer.from(identity.caPem),
    Buffer.from(identity.keyPem),
    Buffer.from(identity.certPem),
  );
}

/** The part of a grpc-js server call that carries the TLS peer (every server call type has it). */
export type AuthenticatedCall = {
  getAuthContext(): { readonly sslPeerCertificate?: { readonly raw?: Uint8Array | undefined } | undefined } | null;
};

/**
 * The node name (certificate CN) of the peer on a server call. TLS has
 * already verified the chain; checking it again here keeps the guarantee if
 * the credentials are ever built elsewhere, and re-checks expiry on
 * long-lived connections whose handshake predates it.
 * @param now @default the current time
 * @throws AuthError `AUTH_CERTIFICATE_REJECTED` when there is no verified peer certificate or it is not valid now
 */
export function peerName(
  call: AuthenticatedCall,
  identity: Pick<NodeIdentity, 'caPem'>,
  now: Date = new Date(),
): string {
  const raw = call.getAuthContext()?.sslPeerCertificate?.raw;
  if (raw === undefined || raw.byteLength === 0) {
    throw new AuthError('AUTH_CERTIFICATE_REJECTED', 'the caller presented no verified client certificate', {
      publicMessage: 'a client certificate from the federation CA is required',
    });
  }
  return verifyPeerCertificate(raw, identity.caPem, now);
}
