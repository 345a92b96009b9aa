import { isNetpollError } from '../../src/index';

/** Runs `action`, expects it to throw a netpoll error of `code` (an instance of `base`). */
export function expectCode(
  action: () => unknown,
  code: string,
  base: ErrorConstructor = Error,
): Error {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(base);
  expect(isNetpollError(caught)).toBe(true);
  expect((caught as { code: string }).code).toBe(code);
  return caught as Error;
}
