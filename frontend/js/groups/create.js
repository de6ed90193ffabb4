// "New group": a title and friends to add.

import { avatar, h, modal, toast } from '../dom.js';
import { request } from '../graphql.js';
import { CONVERSATION_FIELDS, USER_FIELDS } from '../fragments.js';
import { putConversation } from '../conversations/store.js';

/** A checkbox list of `users`; returns { element, selected() }. */
export function userPicker(users, testid) {
  const list = h('ul', { class: 'checklist', data: { testid } }, users.map((user) =>
    h('li', {}, h('label', {},
      h('input', { type: 'checkbox', value: user.id, data: { username: user.username } }),
      avatar(user, 'sm'), user.displayName, h('span', { class: 'muted' }, ` @${user.username}`)))));
  return {
    element: list,
    selected: () => [...list.querySelectorAll('input:checked')].map((box) => box.value),
  };
}

/** Opens the dialog; `onCreated(conversationId)` after success. */
export async function openCreateGroup(onCreated) {
  const { body, close } = modal('New group', 'create-group');
  body.append(h('p', { class: 'muted' }, 'Loading friends…'));
  let friends;
  try {
    friends = (await request(`query { friends { ${USER_FIELDS} } }`)).friends;
  } catch (error) {
    body.replaceChildren(h('p', { class: 'error-text' }, error.message));
    return;
  }
  const title = h('input', { class: 'input', name: 'title', required: true, maxlength: 100, data: { testid: 'group-title' } });
  const picker = userPicker(friends, 'group-members');
  const error = h('p', { class: 'error-text', role: 'alert' });
  const form = h('form', {
    onsubmit: async (event) => {
      event.preventDefault();
      try {
        const data = await request(
          `mutation Create($input: CreateGroupInput!) { createGroup(input: $input) { ${CONVERSATION_FIELDS} } }`,
          { input: { title: title.value.trim(), memberIds: picker.selected() } },
        );
        putConversation(data.createGroup);
        close();
        toast('Group created');
        onCreated(data.createGroup.id);
      } catch (failure) {
        error.textContent = failure.message;
      }
    },
  },
  h('label', { class: 'field' }, h('span', {}, 'Group name'), title),
  h('fieldset', { class: 'field', style: { border: '0', padding: '0' } },
    h('legend', { class: 'muted' }, 'Members'),
    friends.length ? picker.element : h('p', { class: 'empty' }, 'Add friends first to invite them.')),
  error,
  h('div', { class: 'dialog-actions' },
    h('button', { type: 'button', class: 'button secondary', onclick: () => close() }, 'Cancel'),
    h('button', { type: 'submit', class: 'button', data: { testid: 'create-group-submit' } }, 'Create group')));
  body.replaceChildren(form);
  title.focus();
}
