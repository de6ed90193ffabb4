// The profile's list of this account's encryption devices (one per browser
// that signed in): what the safety number is made of. Removing a device you
// no longer use (a lost phone, an old laptop) stops everyone sealing
// messages to it; if it comes back, it starts over as a new device, so
// your contacts see the change. This browser's own device is marked and
// cannot be removed from here: it would only make itself a new one.

import { h, toast } from '../dom.js';
import { request } from '../graphql.js';
import { currentUser } from '../auth/session.js';
import { knownDeviceKeyId } from '../crypto/device.js';

const loadDevices = async () =>
  (await request('query MyDevices { me { id deviceKeys { id label createdAt } } }')).me.deviceKeys;

const revoke = (id) => request('mutation RevokeDevice($id: ID!) { revokeDeviceKey(id: $id) }', { id });

const added = (at) => new Date(at).toLocaleDateString();

/** The "Encryption devices" section, filled in once the list loads. */
export function devicesSection() {
  const list = h('ul', { class: 'my-devices', data: { testid: 'device-list' } });
  const section = h('section', { class: 'devices', aria: { labelledby: 'devices-title' } },
    h('h3', { id: 'devices-title', class: 'section-title' }, 'Encryption devices'),
    h('p', { class: 'muted small' }, 'Each browser you use has its own keys. Remove the ones you no longer use.'),
    list);

  const render = (devices) => {
    const mine = knownDeviceKeyId(currentUser()?.id);
    list.replaceChildren(...devices.map((device) => {
      const name = device.label ?? 'Unnamed device';
      const here = device.id === mine;
      let armed = false;
      const button = here ? null : h('button', {
        type: 'button',
        class: 'button secondary small',
        aria: { label: `Remove ${name}, added ${added(device.createdAt)}` },
        data: { testid: 'remove-device' },
        onclick: async () => {
          // Two clicks: a removed device cannot be brought back.
          if (!armed) {
            armed = true;
            button.textContent = 'Remove for good?';
            button.setAttribute('aria-label', `Remove ${name} for good: it cannot be undone`);
            return;
          }
          button.disabled = true;
          try {
            await revoke(device.id);
            toast(`${name} removed`);
            render(await loadDevices());
          } catch (error) {
            button.disabled = false;
            toast(error.message, 'error');
          }
        },
      }, 'Remove');
      return h('li', { class: 'device-row', data: { testid: 'device' } },
        h('span', { class: 'list-text' },
          h('strong', {}, name),
          h('span', { class: 'muted' }, here ? `This browser · added ${added(device.createdAt)}` : `Added ${added(device.createdAt)}`)),
        button);
    }));
  };

  loadDevices().then(render).catch((error) => {
    list.replaceChildren(h('li', { class: 'muted' }, `Devices could not be loaded: ${error.message}`));
  });
  return section;
}
