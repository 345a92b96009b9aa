// A server process killed (then restarted) or frozen (then resumed) while the client loads all three.
import { kill, stop } from '../src/faults';
import { faultTest } from './helpers/fault-test';

describe('process faults under load', () => {
  faultTest(kill);
  faultTest(stop);
});
