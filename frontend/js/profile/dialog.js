// The profile dialog: display name, avatar, theme, encryption devices, and
// signing out (here, or everywhere: every session of the account ends at once).

import { avatar, h, modal, toast } from '../dom.js';
import { request, upload } from '../graphql.js';
import { currentUser, logout, updateCurrentUser } from '../auth/session.js';
import { USER_FIELDS } from '../fragments.js';
import { devicesSection } from './devices.js';

const THEME_KEY = 'realtalk.theme';

/** Applies the saved theme: 'system' (default), 'light' or 'dark'. */
export function applyTheme(theme = localStorage.getItem(THEME_KEY) ?? 'system') {
  if (theme === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}

async function updateProfile(input) {
  const data = await request(
    `mutation Profile($input: UpdateProfileInput!) { updateProfile(input: $input) { ${USER_FIELDS} email emailVerified } }`,
    { input },
  );
  updateCurrentUser(data.updateProfile);
}

export function openProfile() {
  const user = currentUser();
  const { body, close } = modal('Your profile', 'profile-dialog');
  const preview = h('div', { class: 'avatar-wrap' }, avatar(user, 'lg'));
  const progress = h('progress', { max: 1, value: 0, hidden: true, aria: { label: 'Avatar upload' } });
  const fileInput = h('input', {
    type: 'file', accept: 'image/png,image/jpeg,image/gif,image/webp', class: 'visually-hidden', id: 'avatar-file',
    data: { testid: 'avatar-input' },
    onchange: async () => {
      const file = fileInput.files[0];
      if (!file) return;
      progress.hidden = false;
      try {
        const attachment = await upload(file, 'id', (fraction) => {
          progress.value = fraction;
        });
        await updateProfile({ avatarAttachmentId: attachment.id });
        preview.replaceChildren(avatar(currentUser(), 'lg'));
        toast('Avatar updated');
      } catch (error) {
        toast(error.message, 'error');
      } finally {
        progress.hidden = true;
      }
    },
  });
  const nameInput = h('input', { class: 'input', value: user.displayName, maxlength: 64, required: true, data: { testid: 'display-name' } });
  const theme = h('select', {
    class: 'input', aria: { label: 'Theme' },
    onchange: () => {
      localStorage.setItem(THEME_KEY, theme.value);
      applyTheme(theme.value);
    },
  }, ['system', 'light', 'dark'].map((value) =>
    h('option', { value, selected: (localStorage.getItem(THEME_KEY) ?? 'system') === value }, value)));

  body.append(
    h('div', { class: 'member-row' }, preview,
      h('div', { class: 'list-text' },
        h('strong', {}, `@${user.username}`),
        user.email ? h('span', { class: 'muted' }, user.email) : null,
        h('label', { class: 'button secondary small', for: 'avatar-file', tabindex: '0',
          onkeydown: (event) => {
            if (event.key === 'Enter' || event.key === ' ') {
              event.preventDefault();
              fileInput.click();
            }
          } }, 'Change avatar'),
        fileInput, progress)),
    h('form', {
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          await updateProfile({ displayName: nameInput.value.trim() });
          toast('Profile saved');
        } catch (error) {
          toast(error.message, 'error');
        }
      },
    },
    h('label', { class: 'field' }, h('span', {}, 'Display name'), nameInput),
    h('label', { class: 'field' }, h('span', {}, 'Theme'), theme),
    h('div', { class: 'dialog-actions' }, h('button', { class: 'button', type: 'submit', data: { testid: 'save-profile' } }, 'Save'))),
    devicesSection(),
    h('div', { class: 'dialog-actions' },
      h('button', { type: 'button', class: 'button secondary', data: { testid: 'logout' }, onclick: () => { close(); logout(false); } }, 'Log out'),
      h('button', { type: 'button', class: 'button danger', data: { testid: 'logout-all' }, onclick: () => { close(); logout(true); } }, 'Log out everywhere')),
  );
}
