// The signed-in app: sidebar (me, connection state, Chats / Friends tabs)
// and the main pane with the open chat. The open conversation is in the
// URL fragment (#/c/ID) so Back works and a reload reopens it; on narrow
// screens only one of the two panes shows.

import { icon } from './icons.js';
import { avatar, h, replace, setPresence } from './dom.js';
import { currentUser, onSessionChange } from './auth/session.js';
import { live, onConnectionState } from './live.js';
import { followConversations, loadConversations } from './conversations/store.js';
import { mountConversationList } from './conversations/list.js';
import { mountChat } from './chat/view.js';
import { startOutbox } from './chat/outbox.js';
import { followFriends, onFriendsChanged } from './friends/api.js';
import { incomingCount, mountFriendsPanel } from './friends/panel.js';
import { openCreateGroup } from './groups/create.js';
import { openProfile } from './profile/dialog.js';
import { ensureDevice } from './crypto/device.js';

const STATE_TEXT = { online: 'Online', connecting: 'Connecting…', offline: 'Offline' };

const conversationFromHash = () => /^#\/c\/(.+)$/.exec(location.hash)?.[1] ?? null;

export function mountShell(root) {
  const cleanups = [];
  const meButton = h('button', { type: 'button', class: 'me-button', data: { testid: 'open-profile' }, onclick: openProfile });
  const showMe = () => {
    const user = currentUser();
    if (user) replace(meButton, avatar(user, 'sm'), h('span', { class: 'me-name', data: { testid: 'me-name' } }, user.displayName));
    meButton.setAttribute('aria-label', `Your profile: ${user?.displayName ?? ''}`);
  };
  showMe();
  cleanups.push(onSessionChange(showMe));

  const connection = h('span', { class: 'connection', role: 'status', data: { testid: 'connection-state' } });
  cleanups.push(onConnectionState((state) => {
    connection.dataset.state = state;
    connection.textContent = STATE_TEXT[state] ?? state;
  }));

  const chatsPanel = h('div', { class: 'tab-panel', id: 'panel-chats', role: 'tabpanel', aria: { labelledby: 'tab-chats' } });
  const friendsPanel = h('div', { class: 'tab-panel', id: 'panel-friends', role: 'tabpanel', aria: { labelledby: 'tab-friends' }, hidden: true });
  const requestsBadge = h('span', { class: 'badge', hidden: true, data: { testid: 'requests-badge' } });
  const tab = (id, label, panel, extra) => h('button', {
    type: 'button', role: 'tab', id, class: 'tab', aria: { selected: String(!panel.hidden), controls: panel.id },
    data: { testid: id }, onclick: () => selectTab(id), onkeydown: tabKeys,
  }, label, extra);
  const tabs = [tab('tab-chats', 'Chats', chatsPanel), tab('tab-friends', 'Friends ', friendsPanel, requestsBadge)];
  let friendsUnmount = null;
  function selectTab(id) {
    for (const button of tabs) {
      const selected = button.id === id;
      button.setAttribute('aria-selected', String(selected));
      button.tabIndex = selected ? 0 : -1;
      document.getElementById(button.getAttribute('aria-controls')).hidden = !selected;
    }
    friendsUnmount?.();
    friendsUnmount = id === 'tab-friends' ? mountFriendsPanel(friendsPanel, { openConversation: open }) : null;
  }
  function tabKeys(event) {
    if (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight') return;
    const next = tabs[(tabs.indexOf(event.currentTarget) + 1) % tabs.length];
    next.focus();
    selectTab(next.id);
  }

  const app = h('div', { class: 'app', data: { view: 'list' } });
  const main = h('main', { id: 'main', class: 'main', tabindex: '-1' });
  const sidebar = h('aside', { class: 'sidebar', aria: { label: 'Conversations and friends' } },
    h('header', { class: 'sidebar-header' }, meButton, connection,
      h('button', { type: 'button', class: 'icon-button', aria: { label: 'New group' }, title: 'New group', data: { testid: 'new-group' }, onclick: () => openCreateGroup(open) }, icon('plus'))),
    h('div', { class: 'tabs', role: 'tablist', aria: { label: 'Sidebar' } }, tabs),
    chatsPanel, friendsPanel);
  replace(root, replace(app, sidebar, main));
  selectTab('tab-chats');

  let chatUnmount = null;
  let openId; // undefined until the first route()
  function open(conversationId) {
    if (conversationFromHash() !== conversationId) location.hash = `#/c/${conversationId}`;
    else route();
  }
  function route() {
    const id = conversationFromHash();
    if (id === openId) return;
    chatUnmount?.();
    chatUnmount = null;
    openId = id;
    app.dataset.view = id ? 'chat' : 'list';
    if (id) {
      chatUnmount = mountChat(main, id, { onBack: () => { location.hash = ''; } });
      selectTab('tab-chats');
    } else {
      replace(main, h('div', { class: 'empty-main' }, h('h2', {}, 'RealTalk'), h('p', {}, 'Pick a conversation, or find friends in the Friends tab.')));
    }
    chatsPanel.querySelectorAll('[data-conversation-id]').forEach((item) =>
      item.setAttribute('aria-current', String(item.dataset.conversationId === id)));
  }
  window.addEventListener('hashchange', route);
  cleanups.push(() => window.removeEventListener('hashchange', route));

  cleanups.push(mountConversationList(chatsPanel, { open, selected: () => openId }));
  const updateBadge = () => incomingCount().then((count) => {
    requestsBadge.hidden = count === 0;
    requestsBadge.textContent = String(count);
    requestsBadge.setAttribute('aria-label', `${count} friend requests`);
  }).catch(() => {});
  cleanups.push(onFriendsChanged(updateBadge));
  updateBadge();

  // Publish this browser's device key (idempotent): partners can then seal
  // to it, and encryption can be turned on with us.
  ensureDevice(currentUser().id).catch(() => {});
  cleanups.push(startOutbox());
  cleanups.push(followConversations());
  cleanups.push(followFriends());
  cleanups.push(live.subscribe({
    query: 'subscription Presence { presence { online user { id } } }',
    next: (data) => setPresence(data.presence.user.id, data.presence.online),
  }));
  live.start();
  loadConversations().catch(() => {});
  route();

  return () => {
    chatUnmount?.();
    friendsUnmount?.();
    cleanups.forEach((cleanup) => cleanup());
    live.stop();
  };
}
