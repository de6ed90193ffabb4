// The Friends tab: search people, requests in and out, the friend list.
// Every action refetches the overview, so the panel shows what the server
// says rather than guessing.

import { avatar, h, presenceDot, replace, toast } from '../dom.js';
import { putConversation } from '../conversations/store.js';
import * as api from './api.js';

const SEARCH_DELAY_MS = 250;

function person(user, subtitle, actions) {
  return h('li', { class: 'list-item person', data: { testid: 'person', username: user.username } },
    h('span', { class: 'avatar-wrap' }, avatar(user), presenceDot(user)),
    h('span', { class: 'list-text' },
      h('span', { class: 'list-title' }, user.displayName),
      h('span', { class: 'list-sub' }, subtitle ?? `@${user.username}`)),
    h('span', { class: 'row-actions' }, actions));
}

function action(label, run, { kind = 'secondary', testid, name } = {}) {
  return h('button', {
    type: 'button',
    class: `button small ${kind}`,
    aria: name ? { label: `${label} ${name}` } : undefined,
    data: { testid: testid ?? label.toLowerCase().replace(/\s+/g, '-') },
    onclick: async (event) => {
      event.currentTarget.disabled = true;
      try {
        await run();
      } catch (error) {
        toast(error.message, 'error');
      }
      api.friendsChanged();
    },
  }, label);
}

/** Mounts the panel; `openConversation(id)` switches to a chat. */
export function mountFriendsPanel(container, { openConversation }) {
  let overview = { friends: [], incoming: [], outgoing: [] };
  let results = [];
  let query = '';
  const searchInput = h('input', {
    class: 'input', type: 'search', placeholder: 'Search people by name',
    aria: { label: 'Search people' }, data: { testid: 'user-search' },
    oninput: () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(runSearch, SEARCH_DELAY_MS);
    },
  });
  let searchTimer = null;
  const resultsList = h('ul', { class: 'list', aria: { label: 'Search results' }, data: { testid: 'search-results' } });
  const body = h('div', {});
  replace(container, h('div', { class: 'search-box' }, searchInput), resultsList, body);

  const message = async (user) => {
    const conversation = await api.openDirect(user.id);
    putConversation(conversation);
    openConversation(conversation.id);
  };

  const actionsFor = (user) => {
    const outgoing = overview.outgoing.find((req) => req.to.id === user.id);
    const incoming = overview.incoming.find((req) => req.from.id === user.id);
    const name = user.displayName;
    switch (user.friendship) {
      case 'NONE':
        return [action('Add friend', () => api.sendRequest(user.id), { kind: '', testid: 'add-friend', name })];
      case 'REQUEST_SENT':
        return outgoing ? [action('Cancel request', () => api.cancelRequest(outgoing.id), { testid: 'cancel-request', name })] : [];
      case 'REQUEST_RECEIVED':
        return incoming ? [
          action('Accept', () => api.acceptRequest(incoming.id), { kind: '', name }),
          action('Decline', () => api.declineRequest(incoming.id), { name }),
        ] : [];
      case 'FRIENDS':
        return [action('Message', () => message(user), { kind: '', name })];
      case 'BLOCKED':
        return [action('Unblock', () => api.unblockUser(user.id), { name })];
      default:
        return [];
    }
  };

  async function runSearch() {
    query = searchInput.value.trim();
    if (!query) {
      results = [];
      render();
      return;
    }
    try {
      results = await api.searchUsers(query);
    } catch (error) {
      toast(error.message, 'error');
    }
    render();
  }

  function render() {
    replace(resultsList, query && results.length === 0 ? h('li', { class: 'empty' }, 'Nobody found.') : null,
      results.filter((user) => user.friendship !== 'SELF').map((user) => person(user, null, actionsFor(user))));
    const { friends, incoming, outgoing } = overview;
    replace(body,
      incoming.length ? [
        h('h3', { class: 'section-title' }, `Requests (${incoming.length})`),
        h('ul', { class: 'list', data: { testid: 'incoming-requests' } }, incoming.map((req) => person(req.from, 'wants to be your friend', [
          action('Accept', () => api.acceptRequest(req.id), { kind: '', name: req.from.displayName }),
          action('Decline', () => api.declineRequest(req.id), { name: req.from.displayName }),
        ]))),
      ] : null,
      outgoing.length ? [
        h('h3', { class: 'section-title' }, 'Sent requests'),
        h('ul', { class: 'list', data: { testid: 'outgoing-requests' } }, outgoing.map((req) => person(req.to, 'request sent', [
          action('Cancel request', () => api.cancelRequest(req.id), { testid: 'cancel-request', name: req.to.displayName }),
        ]))),
      ] : null,
      h('h3', { class: 'section-title' }, `Friends (${friends.length})`),
      h('ul', { class: 'list', data: { testid: 'friend-list' } },
        friends.length === 0 ? h('li', { class: 'empty' }, 'No friends yet: search for someone above.') : null,
        friends.map((user) => person(user, null, [
          action('Message', () => message(user), { kind: '', name: user.displayName }),
          action('Remove', () => {
            if (!window.confirm(`Remove ${user.displayName} from your friends?`)) return undefined;
            return api.removeFriend(user.id);
          }, { name: user.displayName }),
          action('Block', () => {
            if (!window.confirm(`Block ${user.displayName}? They will not be able to message you.`)) return undefined;
            return api.blockUser(user.id);
          }, { kind: 'danger', name: user.displayName }),
        ]))));
  }

  async function refresh() {
    try {
      overview = await api.loadFriendsOverview();
      if (query) results = await api.searchUsers(query);
    } catch (error) {
      if (error.code !== 'NETWORK') toast(error.message, 'error');
    }
    render();
  }

  render();
  refresh();
  return api.onFriendsChanged(refresh);
}

/** Count of incoming requests, for the tab badge. */
export async function incomingCount() {
  const data = await api.loadFriendsOverview();
  return data.incoming.length;
}
