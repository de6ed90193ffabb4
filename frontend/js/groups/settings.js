// "Group info": rename, members with their roles, add and remove members,
// leave. What a member may do is the server's rule; the dialog only hides
// buttons that would certainly be refused and shows any refusal it gets.

import { avatar, h, modal, presenceDot, replace, toast } from '../dom.js';
import { request } from '../graphql.js';
import { currentUser } from '../auth/session.js';
import { CONVERSATION_FIELDS, USER_FIELDS } from '../fragments.js';
import { dropConversation, putConversation } from '../conversations/store.js';
import { userPicker } from './create.js';

const ROLES = ['OWNER', 'ADMIN', 'MEMBER'];

async function mutate(query, variables) {
  const data = await request(query, variables);
  const conversation = Object.values(data)[0];
  if (conversation && typeof conversation === 'object') putConversation(conversation);
  return conversation;
}

export async function openGroupSettings(conversationId) {
  const { body, close } = modal('Group info', 'group-settings-dialog');
  const render = async () => {
    let data;
    try {
      data = await request(`query Group($id: ID!) { conversation(id: $id) { ${CONVERSATION_FIELDS} } friends { ${USER_FIELDS} } }`, { id: conversationId });
    } catch (error) {
      replace(body, h('p', { class: 'error-text' }, error.message));
      return;
    }
    const conversation = data.conversation;
    if (!conversation) {
      close();
      return;
    }
    const me = currentUser()?.id;
    const myRole = conversation.members.find((member) => member.user.id === me)?.role;
    const manager = myRole === 'OWNER' || myRole === 'ADMIN';
    const run = (task) => async () => {
      try {
        await task();
      } catch (error) {
        toast(error.message, 'error');
      }
      render();
    };

    const titleInput = h('input', { class: 'input', value: conversation.title ?? '', maxlength: 100, aria: { label: 'Group name' }, data: { testid: 'rename-input' } });
    const rename = h('form', {
      class: 'composer-row',
      onsubmit: (event) => {
        event.preventDefault();
        run(() => mutate('mutation($id: ID!, $title: String!) { renameGroup(conversationId: $id, title: $title) { ' + CONVERSATION_FIELDS + ' } }',
          { id: conversationId, title: titleInput.value.trim() }))();
      },
    }, titleInput, h('button', { class: 'button', type: 'submit', data: { testid: 'rename-submit' } }, 'Rename'));

    const members = h('ul', { class: 'list', data: { testid: 'group-member-list' } }, conversation.members.map((member) => {
      const self = member.user.id === me;
      const roleControl = manager && !self && myRole === 'OWNER'
        ? h('select', {
          class: 'input', style: { width: 'auto' }, aria: { label: `Role of ${member.user.displayName}` },
          onchange: (event) => run(() => mutate(
            'mutation($id: ID!, $user: ID!, $role: MemberRole!) { setMemberRole(conversationId: $id, userId: $user, role: $role) { ' + CONVERSATION_FIELDS + ' } }',
            { id: conversationId, user: member.user.id, role: event.target.value }))(),
        }, ROLES.map((role) => h('option', { value: role, selected: role === member.role }, role.toLowerCase())))
        : h('span', { class: 'muted' }, member.role.toLowerCase());
      return h('li', { class: 'member-row', data: { testid: 'group-member', username: member.user.username } },
        h('span', { class: 'avatar-wrap' }, avatar(member.user, 'sm'), presenceDot(member.user)),
        h('span', { class: 'list-text' }, self ? `${member.user.displayName} (you)` : member.user.displayName),
        roleControl,
        manager && !self && member.role !== 'OWNER'
          ? h('button', {
            type: 'button', class: 'button small danger', aria: { label: `Remove ${member.user.displayName}` },
            onclick: run(() => mutate('mutation($id: ID!, $user: ID!) { removeGroupMember(conversationId: $id, userId: $user) { ' + CONVERSATION_FIELDS + ' } }',
              { id: conversationId, user: member.user.id })),
          }, 'Remove')
          : null);
    }));

    const memberIds = new Set(conversation.members.map((member) => member.user.id));
    const candidates = data.friends.filter((friend) => !memberIds.has(friend.id));
    const picker = userPicker(candidates, 'add-members');
    const add = candidates.length && manager ? h('form', {
      onsubmit: (event) => {
        event.preventDefault();
        const ids = picker.selected();
        if (ids.length) run(() => mutate('mutation($id: ID!, $users: [ID!]!) { addGroupMembers(conversationId: $id, userIds: $users) { ' + CONVERSATION_FIELDS + ' } }', { id: conversationId, users: ids }))();
      },
    }, h('h3', { class: 'section-title' }, 'Add friends'), picker.element,
    h('div', { class: 'dialog-actions' }, h('button', { class: 'button', type: 'submit', data: { testid: 'add-members-submit' } }, 'Add'))) : null;

    const leave = h('button', {
      type: 'button', class: 'button danger', data: { testid: 'leave-group' },
      onclick: async () => {
        if (!window.confirm('Leave this group?')) return;
        try {
          await request('mutation($id: ID!) { leaveGroup(conversationId: $id) }', { id: conversationId });
          dropConversation(conversationId);
          close();
          location.hash = '';
        } catch (error) {
          toast(error.message, 'error');
        }
      },
    }, 'Leave group');

    replace(body,
      manager ? rename : h('p', {}, h('strong', {}, conversation.title)),
      h('h3', { class: 'section-title' }, `Members (${conversation.members.length})`),
      members, add,
      h('div', { class: 'dialog-actions' }, leave));
  };
  render();
}
