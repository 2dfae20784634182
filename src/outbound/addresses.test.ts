import { describe, expect, it } from 'vitest';
import { isPrivateAddress, PrivateAddressError, resolveChecked } from './addresses.ts';

describe('webhook address guard', () => {
  it.each([
    '127.0.0.1', '127.1.2.3', '10.0.0.1', '172.16.5.4', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1',
    '0.0.0.0', '224.0.0.1', '255.255.255.255', '198.18.0.1', '192.0.2.10',
    '::1', '::', 'fe80::1', 'fc00::1', 'fd12:3456::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '64:ff9b::a00:1',
    '2002:c0a8:0101::1', '2001:db8::1', 'fe80::1%eth0', 'not an address',
  ])('refuses %s', (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808'])('allows %s', (address) => {
    expect(isPrivateAddress(address)).toBe(false);
  });

  it('checks every address a literal or a name resolves to', async () => {
    await expect(resolveChecked('127.0.0.1', false)).rejects.toBeInstanceOf(PrivateAddressError);
    await expect(resolveChecked('[::1]', false)).rejects.toBeInstanceOf(PrivateAddressError);
    await expect(resolveChecked('localhost', false)).rejects.toBeInstanceOf(PrivateAddressError);
    expect(await resolveChecked('127.0.0.1', true)).toEqual([{ address: '127.0.0.1', family: 4 }]);
  });
});
