/** A decryption lane (see lanes.ts): a module worker of the app's own origin. */
import { serveLane } from './lanes.ts';

serveLane(self as unknown as Parameters<typeof serveLane>[0]);
