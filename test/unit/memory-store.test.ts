import { MemoryStore } from '../../shared/adapters/local/memory-store.ts';
import { storeContract } from '../contract/store.contract.ts';

storeContract('memory', async (clock) => new MemoryStore(clock));
