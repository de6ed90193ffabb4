// The encryption screens of a direct chat: turning encryption on (a
// one-way switch, so it asks first) and the safety-number dialog behind
// the header's lock, where two people compare the number made of both
// sides' keys to know nobody sits in between.

import { h, modal, replace, toast } from '../dom.js';
import { putConversation } from '../conversations/store.js';
import { conversationKeys } from '../crypto/directory.js';
import { safetyNumber } from '../crypto/safety.js';
import { ensureDevice } from '../crypto/device.js';
import { currentUser } from '../auth/session.js';
import { encryptConversation } from './api.js';

/** Asks, then switches the conversation to end-to-end encryption. */
export function openEncryptDialog(conversation, partnerName) {
  const { body, close } = modal('Turn on end-to-end encryption', 'encrypt-dialog');
  const error = h('p', { class: 'error-text', role: 'alert', data: { testid: 'encrypt-error' } });
  const confirm = h('button', {
    type: 'button',
    class: 'button',
    data: { testid: 'encrypt-confirm' },
    onclick: async () => {
      confirm.disabled = true;
      error.textContent = '';
      try {
        // Both members need a published key; ours is, once this resolves.
        await ensureDevice(currentUser()?.id);
        putConversation(await encryptConversation(conversation.id));
        close();
        toast(`Messages with ${partnerName} are now end-to-end encrypted`);
      } catch (problem) {
        error.textContent = problem.message;
        confirm.disabled = false;
      }
    },
  }, 'Turn on encryption');
  replace(body,
    h('p', {}, `From now on, messages and files in this chat are encrypted on your device and can only be read on ${partnerName}'s and your devices, not by the server.`),
    h('p', { class: 'muted' }, 'This cannot be turned off again. Encrypted messages cannot be edited (delete and resend instead) and do not show up in search.'),
    error,
    h('p', { class: 'dialog-actions' },
      h('button', { type: 'button', class: 'button secondary', onclick: () => close() }, 'Cancel'),
      confirm));
  confirm.focus();
}

function deviceList(member) {
  return h('li', { data: { testid: 'safety-member', userId: member.user.id } },
    h('strong', {}, member.user.displayName),
    ` — ${member.deviceKeys.length} ${member.deviceKeys.length === 1 ? 'device' : 'devices'}`,
    h('ul', { class: 'device-list' }, member.deviceKeys.map((key) =>
      h('li', { class: 'muted' }, `${key.label || 'Device'}, added ${new Date(key.createdAt).toLocaleDateString()}`))),
    member.invalid.length
      ? h('p', { class: 'error-text' }, `${member.invalid.length} key(s) failed the signature check and are not used.`)
      : null);
}

/** The lock dialog: safety number and the devices messages are sealed to. */
export async function openSafetyDialog(conversationId, partnerName) {
  const { body } = modal('End-to-end encrypted', 'safety-dialog');
  replace(body, h('p', { role: 'status' }, 'Loading keys…'));
  try {
    const keys = await conversationKeys(conversationId, { fresh: true });
    const number = await safetyNumber(keys.deviceKeys);
    replace(body,
      h('p', {}, `Messages here can only be read on your and ${partnerName}'s devices. To be sure nobody can listen in, compare this safety number with ${partnerName}'s, in person or on a call: they must be the same.`),
      h('div', { class: 'safety-number', data: { testid: 'safety-number', number: number.text }, aria: { label: `Safety number ${number.text}` } },
        number.groups.map((group) => h('span', {}, group))),
      h('p', { class: 'muted' }, 'The number changes when either of you adds or removes a device.'),
      h('ul', { class: 'safety-members' }, keys.members.map(deviceList)));
  } catch (error) {
    replace(body, h('p', { class: 'error-text', role: 'alert' }, error.message));
  }
}
