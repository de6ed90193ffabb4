// The sign-in / create-account screen. One form, two modes.

import { h, replace } from '../dom.js';
import { login, register } from './session.js';

function field(label, input) {
  return h('label', { class: 'field' }, h('span', {}, label), input);
}

function input(name, type, autocomplete, required = true) {
  return h('input', { class: 'input', name, type, autocomplete, required, data: { testid: `auth-${name}` } });
}

/** Renders the auth screen into `root`; `mode` is 'login' or 'register'. */
export function renderAuth(root, mode = 'login') {
  const registering = mode === 'register';
  const error = h('p', { class: 'error-text', role: 'alert', data: { testid: 'auth-error' } });
  const submit = h('button', { class: 'button', type: 'submit', data: { testid: 'auth-submit' } },
    registering ? 'Create account' : 'Sign in');
  const fields = registering
    ? [
        field('Username', input('username', 'text', 'username')),
        field('Email', input('email', 'email', 'email')),
        field('Display name (optional)', input('displayName', 'text', 'name', false)),
        field('Password', input('password', 'password', 'new-password')),
      ]
    : [
        field('Username or email', input('login', 'text', 'username')),
        field('Password', input('password', 'password', 'current-password')),
      ];
  const form = h('form', {
    class: 'auth-form',
    aria: { label: registering ? 'Create account' : 'Sign in' },
    onsubmit: async (event) => {
      event.preventDefault();
      const values = Object.fromEntries(new FormData(form));
      submit.disabled = true;
      error.textContent = '';
      try {
        if (registering) await register(values);
        else await login(values.login, values.password);
      } catch (failure) {
        error.textContent = failure.message;
        submit.disabled = false;
      }
    },
  }, fields, error, submit);
  replace(root, h('div', { class: 'auth' },
    h('main', { id: 'main', class: 'auth-card' },
      h('h1', { class: 'brand' }, h('img', { src: '/favicon.svg', alt: '' }), 'RealTalk'),
      form,
      h('p', { class: 'auth-switch' },
        registering ? 'Already have an account? ' : 'New here? ',
        h('button', {
          type: 'button',
          class: 'link-button',
          data: { testid: registering ? 'to-login' : 'to-register' },
          onclick: () => renderAuth(root, registering ? 'login' : 'register'),
        }, registering ? 'Sign in' : 'Create an account'),
      ),
    ),
  ));
  form.querySelector('input')?.focus();
}
