// Writing a message: text (Enter sends, Shift+Enter breaks the line),
// attachments uploaded at once with progress and a local preview, a reply
// or edit in progress, and typing signals (renewed while typing, cleared on
// send or pause).

import { icon } from '../icons.js';
import { h, toast } from '../dom.js';
import { encryptFile } from '../crypto/files.js';
import { setTyping, uploadFile } from './api.js';

const TYPING_RENEW_MS = 3_000;
const TYPING_IDLE_MS = 4_000;

export class Composer {
  /**
   * `onSend({ body, attachments, replyTo })`, `onEdit(message, body)`;
   * `encrypted()` says whether files must be encrypted before upload.
   */
  constructor(conversationId, { onSend, onEdit, encrypted = () => false }) {
    Object.assign(this, { conversationId, onSend, onEdit, encrypted });
    this.uploads = [];
    this.replyTo = null;
    this.editing = null;
    this.typingSentAt = 0;
    this.context = h('div', { class: 'composer-context', hidden: true });
    this.uploadList = h('div', { class: 'pending-uploads', data: { testid: 'pending-uploads' } });
    this.textarea = h('textarea', {
      class: 'input',
      rows: 1,
      placeholder: 'Write a message…',
      aria: { label: 'Message' },
      data: { testid: 'composer-input' },
      oninput: () => this.typed(),
      onkeydown: (event) => this.keydown(event),
      onblur: () => this.stopTyping(),
    });
    this.fileInput = h('input', {
      type: 'file',
      multiple: true,
      class: 'visually-hidden',
      id: `file-${conversationId}`,
      data: { testid: 'file-input' },
      onchange: () => this.attach([...this.fileInput.files]),
    });
    this.element = h('form', {
      class: 'composer',
      aria: { label: 'Send a message' },
      onsubmit: (event) => {
        event.preventDefault();
        this.submit();
      },
    },
    this.context,
    this.uploadList,
    h('div', { class: 'composer-row' },
      this.fileInput,
      h('label', { class: 'icon-button', for: `file-${conversationId}`, title: 'Attach files', aria: { label: 'Attach files' }, tabindex: '0',
        onkeydown: (event) => {
          if (event.key === 'Enter' || event.key === ' ') {
            event.preventDefault();
            this.fileInput.click();
          }
        } }, icon('attach')),
      this.textarea,
      h('button', { class: 'button', type: 'submit', data: { testid: 'send' } }, 'Send')));
  }

  focus() {
    this.textarea.focus();
  }

  /** Says in the placeholder that what is written here is encrypted. */
  setEncrypted(on) {
    this.textarea.placeholder = on ? 'Write an encrypted message…' : 'Write a message…';
    this.element.dataset.encrypted = String(on);
  }

  keydown(event) {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.submit();
    } else if (event.key === 'Escape' && (this.replyTo || this.editing)) {
      this.clearContext();
    }
  }

  typed() {
    this.textarea.style.height = 'auto';
    this.textarea.style.height = `${Math.min(140, this.textarea.scrollHeight)}px`;
    if (this.editing) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
    if (Date.now() - this.typingSentAt > TYPING_RENEW_MS && this.textarea.value.trim()) {
      this.typingSentAt = Date.now();
      setTyping(this.conversationId, true).catch(() => {});
    }
  }

  stopTyping() {
    clearTimeout(this.idleTimer);
    if (this.typingSentAt === 0) return;
    this.typingSentAt = 0;
    setTyping(this.conversationId, false).catch(() => {});
  }

  setReply(message) {
    this.editing = null;
    this.replyTo = message;
    this.showContext(`Replying to ${message.author.displayName}: ${message.body}`);
  }

  setEdit(message) {
    this.replyTo = null;
    this.editing = message;
    this.textarea.value = message.body;
    this.showContext('Editing message');
  }

  showContext(text) {
    this.context.hidden = false;
    this.context.replaceChildren(
      h('span', { data: { testid: 'composer-context' } }, text),
      h('button', { type: 'button', class: 'icon-button', aria: { label: 'Cancel' }, onclick: () => this.clearContext() }, icon('close')),
    );
    this.focus();
  }

  clearContext() {
    if (this.editing) this.textarea.value = '';
    this.replyTo = null;
    this.editing = null;
    this.context.hidden = true;
    this.context.replaceChildren();
  }

  attach(files) {
    for (const file of files) {
      const entry = { file, attachment: null, chip: null, progress: h('progress', { max: 1, value: 0, aria: { label: `Uploading ${file.name}` } }) };
      const preview = file.type.startsWith('image/') ? h('img', { src: URL.createObjectURL(file), alt: '' }) : null;
      entry.chip = h('div', { class: 'upload-chip', data: { testid: 'upload-chip' } },
        preview, h('span', {}, file.name), entry.progress,
        h('button', { type: 'button', class: 'icon-button', aria: { label: `Remove ${file.name}` }, onclick: () => this.removeUpload(entry) }, icon('close')));
      this.uploads.push(entry);
      this.uploadList.append(entry.chip);
      const progress = (fraction) => {
        entry.progress.value = fraction;
      };
      // Encrypted conversations: the server gets ciphertext named
      // encrypted.bin; the key and the real name go into the sealed message.
      entry.done = (this.encrypted()
        ? encryptFile(file).then(({ upload, secret }) => uploadFile(upload, progress, { encrypted: true })
          .then((attachment) => ({
            ...attachment, fileName: secret.name, contentType: secret.type, size: secret.size,
            width: secret.width, height: secret.height, thumbnailUrl: null, secret,
          })))
        : uploadFile(file, progress)
      ).then((attachment) => {
        entry.attachment = attachment;
        entry.chip.dataset.uploaded = 'true';
      }).catch((error) => {
        toast(`${file.name}: ${error.message}`, 'error');
        this.removeUpload(entry);
      });
    }
    this.fileInput.value = '';
  }

  removeUpload(entry) {
    this.uploads = this.uploads.filter((other) => other !== entry);
    entry.chip.remove();
  }

  async submit() {
    const body = this.textarea.value.trim();
    if (this.editing) {
      if (body && body !== this.editing.body) this.onEdit(this.editing, body);
      this.clearContext();
      this.textarea.value = '';
      return;
    }
    if (!body && this.uploads.length === 0) return;
    const uploads = this.uploads;
    if (uploads.some((entry) => !entry.attachment)) {
      await Promise.all(uploads.map((entry) => entry.done));
    }
    const attachments = uploads.filter((entry) => entry.attachment).map((entry) => entry.attachment);
    if (!body && attachments.length === 0) return;
    this.onSend({ body, attachments, replyTo: this.replyTo });
    this.uploads = [];
    this.uploadList.replaceChildren();
    this.textarea.value = '';
    this.typed();
    this.stopTyping();
    this.clearContext();
  }
}
