// Friends and requests: the operations, and one notifications subscription
// that tells the panel when to refetch.

import { request } from '../graphql.js';
import { live, onReconnect } from '../live.js';
import { CONVERSATION_FIELDS, USER_FIELDS } from '../fragments.js';

const REQUEST_FIELDS = `id status createdAt from { ${USER_FIELDS} } to { ${USER_FIELDS} }`;

export async function loadFriendsOverview() {
  const data = await request(`query Friends {
    friends { ${USER_FIELDS} }
    incoming: friendRequests(incoming: true) { ${REQUEST_FIELDS} }
    outgoing: friendRequests(incoming: false) { ${REQUEST_FIELDS} } }`);
  return data;
}

export async function searchUsers(query) {
  const data = await request(`query Search($query: String!) { searchUsers(query: $query, first: 20) { ${USER_FIELDS} } }`, { query });
  return data.searchUsers;
}

export const sendRequest = (userId) => request('mutation($id: ID!) { sendFriendRequest(userId: $id) { id } }', { id: userId });
export const acceptRequest = (id) => request('mutation($id: ID!) { acceptFriendRequest(id: $id) { id } }', { id });
export const declineRequest = (id) => request('mutation($id: ID!) { declineFriendRequest(id: $id) { id } }', { id });
export const cancelRequest = (id) => request('mutation($id: ID!) { cancelFriendRequest(id: $id) { id } }', { id });
export const removeFriend = (userId) => request('mutation($id: ID!) { removeFriend(userId: $id) }', { id: userId });
export const blockUser = (userId) => request('mutation($id: ID!) { blockUser(userId: $id) }', { id: userId });
export const unblockUser = (userId) => request('mutation($id: ID!) { unblockUser(userId: $id) }', { id: userId });

export async function openDirect(userId) {
  const data = await request(`mutation($id: ID!) { openDirectConversation(userId: $id) { ${CONVERSATION_FIELDS} } }`, { id: userId });
  return data.openDirectConversation;
}

const listeners = new Set();

/** `listener()` whenever friend requests or friendships may have changed. */
export function onFriendsChanged(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function friendsChanged() {
  for (const listener of listeners) listener();
}

/** Follows friend-request and friend-removed notifications; returns a function that stops. */
export function followFriends() {
  const stops = [
    live.subscribe({
      query: 'subscription FriendNotices { notifications { kind friendRequest { id } } }',
      next: (data) => {
        const { kind } = data.notifications;
        if (kind.startsWith('FRIEND_REQUEST') || kind === 'FRIEND_REMOVED') friendsChanged();
      },
    }),
    onReconnect(friendsChanged),
  ];
  return () => stops.forEach((stop) => stop());
}
