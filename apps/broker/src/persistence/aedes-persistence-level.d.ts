// aedes-persistence-level 9.2 ships no types. It is the aedes-persistence 11 API (CallBackPersistence: every method
// returns a promise when called without a callback, which is how aedes 1.2 calls it) over an abstract-level database
// such as classic-level. Only the members specfleet calls itself are typed; aedes uses the rest.
declare module 'aedes-persistence-level' {
  import type { AbstractLevel } from 'abstract-level';

  export interface LevelAedesPersistence {
    setup(broker: unknown): Promise<void>;
    subscriptionsByTopic(topic: string): Promise<Array<{ clientId: string; topic: string; qos: number }>>;
    outgoingEnqueueCombi(subs: Array<{ clientId: string; topic: string; qos: number }>, packet: object): Promise<unknown>;
    destroy(): Promise<void>;
  }

  export default function aedesPersistenceLevel(db: AbstractLevel<any, any, any>): LevelAedesPersistence;
}
