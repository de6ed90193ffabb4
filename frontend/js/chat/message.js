// One message as DOM: bubble, reply quote, attachments (thumbnails that
// open the full image), reactions and the actions on it. Pure: everything
// it can do goes through the `actions` callbacks.

import { icon } from '../icons.js';
import { avatar, formatTime, h, modal } from '../dom.js';

export const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🎉'];

function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Shows the full-size image in a dialog. */
export function openImage(attachment) {
  const { body, dialog } = modal(attachment.fileName, 'image-viewer');
  dialog.classList.add('image-viewer');
  body.append(
    h('img', { src: attachment.url, alt: attachment.fileName, data: { testid: 'full-image' } }),
    h('p', { class: 'dialog-actions' },
      h('a', { class: 'button secondary small', href: attachment.url, download: attachment.fileName }, 'Download')),
  );
}

function attachmentView(attachment) {
  if (attachment.contentType.startsWith('image/') && attachment.thumbnailUrl) {
    return h('button', {
      type: 'button',
      class: 'thumb',
      aria: { label: `Open image ${attachment.fileName}` },
      onclick: () => openImage(attachment),
    }, h('img', {
      src: attachment.thumbnailUrl,
      alt: attachment.fileName,
      loading: 'lazy',
      data: { testid: 'image-preview' },
    }));
  }
  return h('a', { class: 'file-link', href: attachment.url, download: attachment.fileName },
    icon('attach'), attachment.fileName, h('span', { class: 'muted' }, ` ${formatSize(attachment.size)}`));
}

function reactionBar(message, actions) {
  if (!message.reactions?.length) return null;
  return h('div', { class: 'reactions' }, message.reactions.map((reaction) =>
    h('button', {
      type: 'button',
      class: 'reaction',
      aria: { pressed: String(reaction.reactedByMe), label: `${reaction.emoji} ${reaction.count}` },
      data: { testid: 'reaction' },
      onclick: () => actions.onReact(message, reaction.emoji, !reaction.reactedByMe),
    }, `${reaction.emoji} ${reaction.count}`)));
}

function emojiPicker(message, actions, anchor) {
  const existing = anchor.parentElement.querySelector('.emoji-picker');
  if (existing) {
    existing.remove();
    return;
  }
  const picker = h('div', { class: 'emoji-picker', role: 'group', aria: { label: 'Pick a reaction' } },
    QUICK_REACTIONS.map((emoji) => h('button', {
      type: 'button',
      class: 'icon-button',
      aria: { label: `React ${emoji}` },
      onclick: () => {
        picker.remove();
        actions.onReact(message, emoji, true);
      },
    }, emoji)));
  anchor.after(picker);
  picker.querySelector('button')?.focus();
}

function actionBar(message, mine, actions) {
  if (message.deleted || message.pending) return null;
  const bar = h('div', { class: 'message-actions' });
  const reactButton = h('button', {
    type: 'button', class: 'icon-button', aria: { label: 'Add reaction' }, data: { testid: 'react' },
    onclick: () => emojiPicker(message, actions, reactButton),
  }, icon('smile'));
  bar.append(
    h('button', { type: 'button', class: 'icon-button', aria: { label: 'Reply' }, data: { testid: 'reply' }, onclick: () => actions.onReply(message) }, icon('reply')),
    reactButton,
  );
  if (mine) {
    bar.append(
      h('button', { type: 'button', class: 'icon-button', aria: { label: 'Edit message' }, data: { testid: 'edit' }, onclick: () => actions.onEdit(message) }, icon('edit')),
      h('button', { type: 'button', class: 'icon-button', aria: { label: 'Delete message' }, data: { testid: 'delete' }, onclick: () => actions.onDelete(message) }, icon('trash')),
    );
  }
  return bar;
}

/**
 * `message` may be a pending outbox item (`pending: true`); `showAuthor`
 * (groups) adds the author's avatar and name to others' messages.
 */
export function renderMessage(message, { mine, showAuthor, actions }) {
  const classes = ['message', mine ? 'mine' : 'theirs', message.pending ? 'pending' : '', message.deleted ? 'deleted' : ''];
  const body = message.deleted ? 'This message was deleted' : message.body;
  const meta = h('div', { class: 'message-meta' },
    h('time', { datetime: message.createdAt }, formatTime(message.createdAt)),
    message.editedAt && !message.deleted ? h('span', { data: { testid: 'edited' } }, 'edited') : null,
    message.pending ? h('span', { data: { testid: 'pending' } }, 'sending…') : null);
  return h('article', {
    class: classes.filter(Boolean).join(' '),
    tabindex: '-1',
    aria: { label: `${message.author.displayName}: ${body}` },
    data: { testid: 'message', messageId: message.id ?? '', clientId: message.clientId ?? '', seq: message.seq ?? '' },
  },
    // Avatars tell people apart in groups; a direct chat has only one other.
    !mine && showAuthor ? avatar(message.author, 'sm') : null,
    h('div', { class: 'bubble-column' },
      !mine && showAuthor ? h('span', { class: 'author' }, message.author.displayName) : null,
      message.replyTo && !message.deleted ? h('div', { class: 'reply-quote', data: { testid: 'reply-quote' } },
        `↩ ${message.replyTo.author.displayName}: ${message.replyTo.deleted ? 'deleted message' : message.replyTo.body}`) : null,
      body ? h('div', { class: 'bubble', data: { testid: 'message-body' } }, body) : null,
      message.attachments?.length && !message.deleted
        ? h('div', { class: 'attachments' }, message.attachments.map(attachmentView)) : null,
      reactionBar(message, actions),
      meta),
    actionBar(message, mine, actions));
}
