// Messages on their way out. Each gets a clientId when typed and keeps it
// through every retry, so the server (idempotent per viewer and clientId)
// stores it once however often the network fails; the queue is persisted so
// a reload while offline loses nothing. Sent in order, one at a time.

import { currentUser } from '../auth/session.js';
import { onReconnect } from '../live.js';
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

export async function flush() {
  if (flushing) return;
  flushing = true;
  clearTimeout(retryTimer);
  try {
    while (queue.length) {
      const item = queue[0];
      try {
        const message = await sendMessage({
          conversationId: item.conversationId,
          body: item.body,
          clientId: item.clientId,
          replyToId: item.replyTo?.id ?? null,
          attachmentIds: item.attachments.map((attachment) => attachment.id),
        });
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
