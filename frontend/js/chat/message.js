// One message as DOM: bubble, reply quote, attachments (thumbnails that
// open the full image), reactions and the actions on it. Pure: everything
// it can do goes through the `actions` callbacks.

import { icon } from '../icons.js';
import { avatar, formatTime, h, modal, toast } from '../dom.js';
import { INLINE_IMAGE_TYPES, decryptedUrl } from '../crypto/files.js';

export const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🎉'];

function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Shows the full-size image in a dialog (`src`: a decrypted copy's blob: URL). */
export function openImage(attachment, src = attachment.url) {
  const { body, dialog } = modal(attachment.fileName, 'image-viewer');
  dialog.classList.add('image-viewer');
  body.append(
    h('img', { src, alt: attachment.fileName, data: { testid: 'full-image' } }),
    h('p', { class: 'dialog-actions' },
      h('a', { class: 'button secondary small', href: src, download: attachment.fileName }, 'Download')),
  );
}

/** Saves a decrypted attachment through a temporary download link. */
async function downloadDecrypted(attachment) {
  try {
    const href = await decryptedUrl(attachment);
    const link = h('a', { href, download: attachment.fileName, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
  } catch (error) {
    toast(`${attachment.fileName}: ${error.message}`, 'error');
  }
}

/**
 * An attachment of an encrypted message: images are fetched, decrypted
 * and shown inline from a blob: URL (the server has no thumbnail of them);
 * other files decrypt when clicked.
 */
function encryptedAttachmentView(attachment) {
  if (attachment.locked) {
    return h('span', { class: 'file-link muted', data: { testid: 'locked-attachment' } }, icon('lock'), attachment.fileName);
  }
  if (INLINE_IMAGE_TYPES.has(attachment.contentType)) {
    const img = h('img', {
      alt: attachment.fileName,
      data: { testid: 'image-preview', encrypted: 'true' },
      width: attachment.width ?? undefined,
      height: attachment.height ?? undefined,
    });
    const button = h('button', {
      type: 'button',
      class: 'thumb decrypting',
      aria: { label: `Open image ${attachment.fileName}` },
      onclick: async () => openImage(attachment, await decryptedUrl(attachment)),
    }, img);
    decryptedUrl(attachment).then((src) => {
      img.src = src;
      button.classList.remove('decrypting');
    }, () => {
      button.classList.remove('decrypting');
      button.replaceWith(h('span', { class: 'file-link muted', data: { testid: 'attachment-error' } }, icon('lock'), `${attachment.fileName} could not be decrypted`));
    });
    return button;
  }
  return h('button', { type: 'button', class: 'file-link', data: { testid: 'encrypted-file' }, onclick: () => downloadDecrypted(attachment) },
    icon('attach'), attachment.fileName, h('span', { class: 'muted' }, ` ${formatSize(attachment.size)}`));
}

function attachmentView(attachment) {
  if (attachment.secret || attachment.locked) return encryptedAttachmentView(attachment);
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
      // The server refuses edits of encrypted messages: delete and resend.
      message.encrypted ? null
        : h('button', { type: 'button', class: 'icon-button', aria: { label: 'Edit message' }, data: { testid: 'edit' }, onclick: () => actions.onEdit(message) }, icon('edit')),
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
  // Opened, but sealed by a device outside the safety number (crypto/trust.js).
  const warning = message.deleted ? null : message.senderWarning;
  const classes = ['message', mine ? 'mine' : 'theirs', message.pending ? 'pending' : '', message.deleted ? 'deleted' : '',
    message.sealed && !message.deleted ? 'sealed' : '', warning ? `untrusted untrusted-${message.senderTrust}` : ''];
  const body = message.deleted ? 'This message was deleted' : message.body;
  const label = `${body || (message.deleted ? '' : message.sealed) || ''}${warning ? `. Warning: ${warning}` : ''}`;
  const meta = h('div', { class: 'message-meta' },
    h('time', { datetime: message.createdAt }, formatTime(message.createdAt)),
    message.editedAt && !message.deleted ? h('span', { data: { testid: 'edited' } }, 'edited') : null,
    message.pending ? h('span', { data: { testid: 'pending' } }, 'sending…') : null);
  return h('article', {
    class: classes.filter(Boolean).join(' '),
    tabindex: '-1',
    aria: { label: `${message.author.displayName}: ${label}` },
    data: {
      testid: 'message',
      messageId: message.id ?? '',
      clientId: message.clientId ?? '',
      seq: message.seq ?? '',
      encrypted: String(Boolean(message.encrypted)),
      senderTrust: message.senderTrust ?? '',
    },
  },
    // Avatars tell people apart in groups; a direct chat has only one other.
    !mine && showAuthor ? avatar(message.author, 'sm') : null,
    h('div', { class: 'bubble-column' },
      !mine && showAuthor ? h('span', { class: 'author' }, message.author.displayName) : null,
      message.replyTo && !message.deleted ? h('div', { class: 'reply-quote', data: { testid: 'reply-quote' } },
        `↩ ${message.replyTo.author.displayName}: ${message.replyTo.deleted ? 'deleted message' : message.replyTo.body}`) : null,
      body ? h('div', { class: 'bubble', data: { testid: 'message-body' } }, body) : null,
      !body && message.sealed && !message.deleted
        ? h('div', { class: 'bubble', data: { testid: 'message-sealed' } }, icon('lock'), ' ', message.sealed) : null,
      message.attachments?.length && !message.deleted
        ? h('div', { class: 'attachments' }, message.attachments.map(attachmentView)) : null,
      warning ? h('p', { class: 'sender-warning', data: { testid: 'sender-warning', level: message.senderTrust } }, warning) : null,
      reactionBar(message, actions),
      meta),
    actionBar(message, mine, actions));
}
