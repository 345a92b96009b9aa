import { join } from 'node:path';

/**
 * The compiled entry point `name` (dist/<name>.js). Host processes always run the build, also
 * when the tests load the sources through ts-jest.
 */
export function distScript(name: string): string {
  return join(__dirname, '..', 'dist', `${name}.js`);
}
