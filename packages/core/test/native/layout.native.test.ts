import { loadBinding } from '../../src/binding';
import * as L from '../../src/layout';
import { describeNative } from '../helpers/native';

describeNative('shared-memory layout', () => {
  it('src/layout.ts agrees with native/layout.h', () => {
    const native = loadBinding().layout();
    const mirrored = L as unknown as Record<string, number>;
    for (const [name, value] of Object.entries(native)) {
      expect({ name, value: mirrored[name] }).toEqual({ name, value });
    }
    expect(native.kStatCount).toBe(L.kStatNames.length);
  });
});
