/** Wire protocol version, checked when a party connects. Bump on any incompatible change. */
export const PROTOCOL_VERSION = 2;

/** The name the coordinator uses as sender and recipient of its own messages. */
export const COORDINATOR = 'coordinator';

/** Software identifier sent in Hello, for logs only. */
export const SOFTWARE = 'tandem/0.1.0';
