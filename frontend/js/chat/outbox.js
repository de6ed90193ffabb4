// Messages on their way out. Each gets a clientId when typed and keeps it
// through every retry, so the server (idempotent per viewer and clientId)
// stores it once however often the network fails; the queue is persisted so
// a reload while offline loses nothing. Sent in order, one at a time.
// Messages of encrypted conversations are sealed when they are sent, not
// when typed, so they go to the devices the members have at that moment;
// if the server says the envelopes do not match its devices (one came or
// went), the keys are fetched again and the message is sealed once more.

import { currentUser } from '../auth/session.js';
import { onReconnect } from '../live.js';
import { getConversation, reloadConversation } from '../conversations/store.js';
import { sealMessage } from '../crypto/messages.js';
import { sendMessage } from './api.js';

const RETRY_MS = 4_000;
const listeners = new Set();
let queue = [];
let flushing = false;
let retryTimer = null;

const storageKey = () => `realtalk.outbox.${currentUser()?.id ?? 'anonymous'}`;

function save() {
  localStorage.setItem(storageKey(), JSON.stringify(queue));
}

/** `listener({ type: 'queued' | 'sent' | 'failed', item, message?, error? })`. */
export function onOutbox(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function emit(event) {
  for (const listener of listeners) listener(event);
}

/** Messages of `conversationId` not yet confirmed by the server. */
export const pendingIn = (conversationId) => queue.filter((item) => item.conversationId === conversationId);

/** Queues a message and starts sending; returns the queued item. */
export function enqueue({ conversationId, body, replyTo = null, attachments = [] }) {
  const item = {
    clientId: crypto.randomUUID(),
    conversationId,
    body,
    replyTo,
    attachments,
    createdAt: new Date().toISOString(),
  };
  queue.push(item);
  save();
  emit({ type: 'queued', item });
  flush();
  return item;
}

async function isEncrypted(conversationId, { fresh = false } = {}) {
  const known = fresh ? null : getConversation(conversationId);
  const conversation = known ?? (await reloadConversation(conversationId));
  return Boolean(conversation?.encrypted);
}

/** The sendMessage input; sealed for every device when the conversation is encrypted. */
async function input(item, { fresh = false, reregister = false } = {}) {
  const base = {
    conversationId: item.conversationId,
    body: item.body,
    clientId: item.clientId,
    replyToId: item.replyTo?.id ?? null,
    attachmentIds: item.attachments.map((attachment) => attachment.id),
  };
  if (!(await isEncrypted(item.conversationId, { fresh }))) return base;
  const sealed = await sealMessage({
    conversationId: item.conversationId,
    text: item.body,
    attachments: item.attachments.filter((a) => a.secret).map((a) => ({ id: a.id, ...a.secret })),
    fresh,
    reregister,
  });
  return { ...base, body: '', ...sealed };
}

/** Refusals that a fresh look at the conversation and its keys may cure. */
const RESEAL_FIELDS = new Set(['envelopes', 'senderDeviceKeyId', 'body']);

async function send(item) {
  try {
    return await sendMessage(await input(item));
  } catch (error) {
    if (error.code !== 'BAD_USER_INPUT' || !RESEAL_FIELDS.has(error.field)) throw error;
    // A device was added or revoked, our own key is unknown to the server,
    // or the conversation was encrypted since we looked: look again, once.
    return sendMessage(await input(item, { fresh: true, reregister: error.field === 'senderDeviceKeyId' }));
  }
}

export async function flush() {
  if (flushing) return;
  flushing = true;
  clearTimeout(retryTimer);
  try {
    while (queue.length) {
      const item = queue[0];
      try {
        const message = await send(item);
        queue.shift();
        save();
        emit({ type: 'sent', item, message });
      } catch (error) {
        if (error.code === 'NETWORK' || error.code === 'RATE_LIMITED' || error.code === 'INTERNAL_SERVER_ERROR') {
          retryTimer = setTimeout(flush, RETRY_MS);
          return;
        }
        queue.shift();
        save();
        emit({ type: 'failed', item, error });
      }
    }
  } finally {
    flushing = false;
  }
}

/** Loads the signed-in user's saved queue and sends it when the link is back. */
export function startOutbox() {
  try {
    queue = JSON.parse(localStorage.getItem(storageKey()) ?? '[]');
  } catch {
    queue = [];
  }
  const stopReconnect = onReconnect(flush);
  const online = () => flush();
  window.addEventListener('online', online);
  flush();
  return () => {
    stopReconnect();
    window.removeEventListener('online', online);
    clearTimeout(retryTimer);
    queue = [];
  };
}
