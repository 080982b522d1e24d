/**
 * The whole message catalog: the steps every job shares (protocol/messages.ts),
 * and those each registered job kind and model family declares. The
 * coordinator checks every envelope it relays against it; the audit report
 * explains steps from it.
 */
import { CORE_MESSAGES, MessageCatalog } from '../protocol/messages.ts';
import { MODEL_FAMILIES } from '../models/registry.ts';
import { JOB_KINDS } from './registry.ts';

const kindMessages = [...new Set([...JOB_KINDS.values()].flatMap((k) => k.messages))];

export const MESSAGE_CATALOG = new MessageCatalog([
  ...CORE_MESSAGES,
  ...kindMessages,
  ...[...MODEL_FAMILIES.values()].flatMap((f) => f.messages),
]);
