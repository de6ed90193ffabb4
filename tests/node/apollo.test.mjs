// Apollo Client (HttpLink + GraphQLWsLink over graphql-ws) against a real
// RealTalk server started from the built binary: log in, subscribe, send,
// receive; logout closes the socket.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ApolloClient, InMemoryCache, HttpLink, gql } from '@apollo/client/core/index.js';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions/index.js';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const BIN = process.env.REALTALK_BIN;
const WAIT_MS = 15000;
let server;
let base;

const freePort = () =>
  new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });

const within = (promise, what) =>
  Promise.race([
    promise,
    new Promise((_, reject) => {
      setTimeout(() => reject(new Error(`timed out: ${what}`)), WAIT_MS).unref();
    }),
  ]);

before(async () => {
  assert.ok(BIN, 'REALTALK_BIN must point at the built realtalk binary');
  const port = await freePort();
  base = `127.0.0.1:${port}`;
  server = spawn(BIN, [], {
    env: {
      PORT: String(port),
      DATA_DIR: mkdtempSync(join(tmpdir(), 'realtalk-node-')),
      JWT_SECRET: 'node-test-secret-node-test-secret-0123456789',
      RUST_LOG: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      const response = await fetch(`http://${base}/health`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('server did not start');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});

after(() => server?.kill('SIGTERM'));

const httpClient = (token) =>
  new ApolloClient({
    link: new HttpLink({
      uri: `http://${base}/graphql`,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    }),
    cache: new InMemoryCache(),
    defaultOptions: { query: { fetchPolicy: 'no-cache' }, mutate: { fetchPolicy: 'no-cache' } },
  });

const REGISTER = gql`
  mutation Register($input: RegisterInput!) {
    register(input: $input) { accessToken user { id username } }
  }
`;

async function register(username) {
  const { data } = await httpClient().mutate({
    mutation: REGISTER,
    variables: { input: { username, email: `${username}@example.com`, password: 'correct horse battery' } },
  });
  return { token: data.register.accessToken, id: data.register.user.id };
}

test('Apollo Client subscribes over graphql-ws and receives a message sent over HTTP', async () => {
  const alice = await register('alice');
  const bob = await register('bob');
  const asAlice = httpClient(alice.token);
  const asBob = httpClient(bob.token);
  const { data: sent } = await asAlice.mutate({
    mutation: gql`mutation($id: ID!) { sendFriendRequest(userId: $id) { id } }`,
    variables: { id: bob.id },
  });
  await asBob.mutate({
    mutation: gql`mutation($id: ID!) { acceptFriendRequest(id: $id) { status } }`,
    variables: { id: sent.sendFriendRequest.id },
  });
  const { data: opened } = await asAlice.mutate({
    mutation: gql`mutation($id: ID!) { openDirectConversation(userId: $id) { id } }`,
    variables: { id: bob.id },
  });
  const conversationId = opened.openDirectConversation.id;

  let closedWith;
  const wsClient = createClient({
    url: `ws://${base}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${alice.token}` },
    retryAttempts: 0,
    lazy: false,
    on: { closed: (event) => { closedWith = event.code; } },
  });
  const live = new ApolloClient({ link: new GraphQLWsLink(wsClient), cache: new InMemoryCache() });
  const connected = new Promise((resolve) => wsClient.on('connected', resolve));

  const received = new Promise((resolve, reject) => {
    const subscription = live
      .subscribe({
        query: gql`
          subscription($c: ID) {
            messageEvents(conversationId: $c) { seq kind message { id body author { username } } }
          }
        `,
        variables: { c: conversationId },
      })
      .subscribe({
        next: ({ data }) => {
          subscription.unsubscribe();
          resolve(data.messageEvents);
        },
        error: reject,
      });
  });
  await within(connected, 'graphql-ws connection');
  // A query on the same socket answers only after the subscription is registered.
  await within(live.query({ query: gql`{ me { id } }`, fetchPolicy: 'no-cache' }), 'query over the socket');

  await asBob.mutate({
    mutation: gql`mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`,
    variables: { input: { conversationId, body: 'hello from Apollo' } },
  });
  const event = await within(received, 'the message event');
  assert.equal(event.kind, 'CREATED');
  assert.equal(event.seq, 1);
  assert.equal(event.message.body, 'hello from Apollo');
  assert.equal(event.message.author.username, 'bob');

  const closed = new Promise((resolve) => wsClient.on('closed', resolve));
  await asAlice.mutate({ mutation: gql`mutation { logout }` });
  await within(closed, 'the socket closing after logout');
  assert.equal(closedWith, 4403);
  await wsClient.dispose();
});
