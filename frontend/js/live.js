// The app's one live connection, shared by every feature, and its state
// for the connection indicator.

import { LiveSocket } from './graphql.js';
import { accessToken, recover } from './auth/session.js';

const stateListeners = new Set();
const reconnectListeners = new Set();

export const live = new LiveSocket({
  url: '/graphql',
  getToken: accessToken,
  onAuthFailed: (tokenUsed) => recover(tokenUsed),
  onState: (state) => {
    for (const listener of stateListeners) listener(state);
  },
  onReconnect: () => {
    for (const listener of reconnectListeners) listener();
  },
});

/** `listener(state)` on every change of the connection state. */
export function onConnectionState(listener) {
  stateListeners.add(listener);
  listener(live.state);
  return () => stateListeners.delete(listener);
}

/** `listener()` after the socket came back: refetch what has no replay. */
export function onReconnect(listener) {
  reconnectListeners.add(listener);
  return () => reconnectListeners.delete(listener);
}
