// The one GraphQL client: HTTP POST for queries and mutations, multipart
// XHR for uploads (XHR because fetch reports no upload progress), and a
// graphql-transport-ws socket for subscriptions that reconnects by itself.

const ENDPOINT = '/graphql';

/** A GraphQL error with its `extensions.code` (or NETWORK when offline). */
export class GraphQLError extends Error {
  constructor(message, code, extra = {}) {
    super(message);
    this.code = code;
    Object.assign(this, extra);
  }
}

let tokenSource = () => null;
let onUnauthenticated = async () => false;

/**
 * `getToken()` gives the current access token; `refresh()` is called once
 * when the server answers UNAUTHENTICATED and resolves true if a retry is
 * worth it.
 */
export function configureAuth(getToken, refresh) {
  tokenSource = getToken;
  onUnauthenticated = refresh;
}

function firstError(body) {
  const error = body?.errors?.[0];
  if (!error) return null;
  return new GraphQLError(error.message, error.extensions?.code ?? 'UNKNOWN', {
    field: error.extensions?.field,
    retryAfterSeconds: error.extensions?.retryAfterSeconds,
  });
}

async function post(query, variables, token) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(ENDPOINT, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  } catch (cause) {
    throw new GraphQLError('The server cannot be reached', 'NETWORK', { cause });
  }
  let body;
  try {
    body = await response.json();
  } catch (cause) {
    throw new GraphQLError(`The server answered ${response.status}`, 'NETWORK', { cause });
  }
  const error = firstError(body);
  if (error) throw error;
  return body.data;
}

/** Runs a query or mutation; on UNAUTHENTICATED refreshes once and retries. */
export async function request(query, variables = {}, { auth = true } = {}) {
  try {
    return await post(query, variables, auth ? tokenSource() : null);
  } catch (error) {
    if (auth && error.code === 'UNAUTHENTICATED' && (await onUnauthenticated())) {
      return post(query, variables, tokenSource());
    }
    throw error;
  }
}

/**
 * Uploads one file by the GraphQL multipart request spec; `onProgress(0..1)`.
 * The preflight header satisfies the server's CSRF rule for multipart.
 * `encrypted`: the bytes are ciphertext for an encrypted conversation.
 */
export function upload(file, selection, onProgress = () => {}, { encrypted = false } = {}) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append('operations', JSON.stringify(encrypted
      ? {
        query: `mutation Upload($file: Upload!) { uploadFile(file: $file, encrypted: true) { ${selection} } }`,
        variables: { file: null },
      }
      : {
        query: `mutation Upload($file: Upload!) { uploadFile(file: $file) { ${selection} } }`,
        variables: { file: null },
      }));
    form.append('map', JSON.stringify({ 0: ['variables.file'] }));
    form.append('0', file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', ENDPOINT);
    xhr.setRequestHeader('Apollo-Require-Preflight', 'true');
    const token = tokenSource();
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener('error', () => reject(new GraphQLError('Upload failed: network', 'NETWORK')));
    xhr.addEventListener('load', () => {
      let body;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        reject(new GraphQLError(`Upload failed (${xhr.status})`, 'NETWORK'));
        return;
      }
      const error = firstError(body);
      if (error) reject(error);
      else {
        onProgress(1);
        resolve(body.data.uploadFile);
      }
    });
    xhr.send(form);
  });
}

export { LiveSocket } from './live-socket.js';
