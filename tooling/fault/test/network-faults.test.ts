// A host cut off at the switch, blackholed, or losing packets at random while the client loads all three.
import { blackhole, lossy, partition } from '../src/faults';
import { faultTest } from './helpers/fault-test';

describe('network faults under load', () => {
  faultTest(partition);
  faultTest(blackhole);
  faultTest(lossy(5));
  faultTest(lossy(30));
});
