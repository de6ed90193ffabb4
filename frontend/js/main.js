// Entry point: the theme, then either the sign-in screen or the app,
// switching whenever the session starts or ends.

import { currentUser, onSessionChange, resume } from './auth/session.js';
import { renderAuth } from './auth/screen.js';
import { mountShell } from './shell.js';
import { applyTheme } from './profile/dialog.js';

const root = document.getElementById('root');
let unmountShell = null;
let signedInAs = null;

function show() {
  const user = currentUser();
  if (user && signedInAs === user.id) return;
  unmountShell?.();
  unmountShell = null;
  signedInAs = user?.id ?? null;
  if (user) unmountShell = mountShell(root);
  else renderAuth(root);
}

applyTheme();
onSessionChange(show);
resume().finally(show);
