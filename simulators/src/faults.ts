// Fault injection for testers: what real fleets send besides good data. Each fault has its own rate and its own
// seeded stream, so switching one on never changes the vehicle's physics or the other faults' choices.
//
// Sample faults (per sample): duplicates, out-of-order pairs, late samples, counter resets; per vehicle: clock skew.
// Message faults (an extra message next to the real data, which is never lost to them): malformed JSON, oversize
// packets. Connection faults (per connection attempt): wrong credentials.
import type { TelemetrySample, VehicleEvent } from '@fleet/contracts';
import { Rng } from './random.js';

export interface FaultRates {
  /** Probability per sample of an extra malformed message. */
  malformed: number;
  /** Probability per sample of sending it twice. */
  duplicate: number;
  /** Probability per sample of swapping it with the next one. */
  outOfOrder: number;
  /** Probability per sample of holding it back and sending it 5–60 samples later. */
  late: number;
  /** Share of vehicles whose clock is off by up to ±clockSkewMaxS. */
  clockSkew: number;
  clockSkewMaxS: number;
  /** Probability per sample that the energy counters restart from zero (ECU replaced, reboot bug). */
  counterReset: number;
  /** Probability per sample of an extra packet larger than oversizeBytes. */
  oversize: number;
  oversizeBytes: number;
  /** Probability per connection attempt of presenting a wrong password. */
  wrongCredentials: number;
}

export const NO_FAULTS: FaultRates = {
  malformed: 0,
  duplicate: 0,
  outOfOrder: 0,
  late: 0,
  clockSkew: 0,
  clockSkewMaxS: 600,
  counterReset: 0,
  oversize: 0,
  oversizeBytes: 300 * 1024,
  wrongCredentials: 0,
};

export interface FaultCounts {
  malformed: number;
  duplicate: number;
  outOfOrder: number;
  late: number;
  counterReset: number;
  oversize: number;
  wrongCredentials: number;
  skewedVehicles: number;
}

export function emptyFaultCounts(): FaultCounts {
  return { malformed: 0, duplicate: 0, outOfOrder: 0, late: 0, counterReset: 0, oversize: 0, wrongCredentials: 0, skewedVehicles: 0 };
}

export interface Outgoing {
  /** Serialized samples to queue, in the order to send them. */
  samples: string[];
  /** Raw extra messages (malformed, oversize) for the telemetry topic. */
  raw: string[];
}

const ENERGY_KEYS = ['traction_kwh', 'body_kwh', 'regen_kwh', 'charged_kwh', 'h2_used_kg', 'fuel_used_l', 'engine_hours'] as const;

export class FaultInjector {
  readonly skewMs: number;
  private readonly rng: Rng;
  private baseline: Partial<Record<(typeof ENERGY_KEYS)[number], number>> = {};
  private held: string | undefined;
  private late: Array<{ due: number; json: string }> = [];
  private count = 0;

  constructor(
    seed: string,
    vehicleId: string,
    private readonly rates: FaultRates,
    private readonly counts: FaultCounts,
  ) {
    this.rng = Rng.stream(seed, vehicleId, 'faults');
    const skewRng = Rng.stream(seed, vehicleId, 'clock');
    this.skewMs = skewRng.chance(rates.clockSkew) ? Math.round(skewRng.uniform(-1, 1) * rates.clockSkewMaxS * 1000) : 0;
    if (this.skewMs !== 0) counts.skewedVehicles++;
  }

  get active(): boolean {
    const r = this.rates;
    return r.malformed + r.duplicate + r.outOfOrder + r.late + r.counterReset + r.oversize > 0 || this.skewMs !== 0;
  }

  /** The vehicle's clock: simulated time plus its skew. */
  timestamp(ms: number): string {
    return new Date(ms + this.skewMs).toISOString();
  }

  event(e: VehicleEvent): VehicleEvent {
    if (this.skewMs === 0) return e;
    return { ...e, ts: this.timestamp(Date.parse(String(e.ts))) };
  }

  /** Applies the sample faults to one fresh sample; returns what to queue now (possibly nothing, or several). */
  sample(s: TelemetrySample): Outgoing {
    const out: Outgoing = { samples: [], raw: [] };
    this.count++;
    if (this.skewMs !== 0) s.ts = this.timestamp(Date.parse(String(s.ts)));
    if (this.rng.chance(this.rates.counterReset)) {
      this.counts.counterReset++;
      for (const k of ENERGY_KEYS) this.baseline[k] = s.energy?.[k] ?? 0;
    }
    if (s.energy) {
      for (const k of ENERGY_KEYS) {
        const base = this.baseline[k];
        const value = s.energy[k];
        if (base !== undefined && value !== undefined) s.energy[k] = Math.max(0, Math.round((value - base) * 1000) / 1000);
      }
    }
    const json = JSON.stringify(s);
    // Late samples that are due go out first (they are older than this one).
    const due = this.late.filter((l) => l.due <= this.count);
    if (due.length > 0) {
      this.late = this.late.filter((l) => l.due > this.count);
      for (const l of due) out.samples.push(l.json);
    }
    if (this.rng.chance(this.rates.late)) {
      this.counts.late++;
      this.late.push({ due: this.count + this.rng.int(5, 60), json });
    } else if (this.held === undefined && this.rng.chance(this.rates.outOfOrder)) {
      this.counts.outOfOrder++;
      this.held = json;
    } else {
      out.samples.push(json);
      if (this.held !== undefined) {
        out.samples.push(this.held);
        this.held = undefined;
      }
      if (this.rng.chance(this.rates.duplicate)) {
        this.counts.duplicate++;
        out.samples.push(json);
      }
    }
    if (this.rng.chance(this.rates.malformed)) {
      this.counts.malformed++;
      out.raw.push(this.malformed(json));
    }
    if (this.rng.chance(this.rates.oversize)) {
      this.counts.oversize++;
      out.raw.push(this.oversize(json));
    }
    return out;
  }

  /** Samples still held back (late / out of order), to send before stopping. */
  drain(): string[] {
    const rest = [...this.late.map((l) => l.json), ...(this.held !== undefined ? [this.held] : [])];
    this.late = [];
    this.held = undefined;
    return rest;
  }

  /** Whether this connection attempt presents a wrong password. */
  wrongCredentials(): boolean {
    if (!this.rng.chance(this.rates.wrongCredentials)) return false;
    this.counts.wrongCredentials++;
    return true;
  }

  private malformed(json: string): string {
    switch (this.rng.int(0, 4)) {
      case 0:
        return json.slice(0, Math.max(1, Math.floor(json.length * this.rng.uniform(0.2, 0.9)))); // truncated
      case 1:
        return JSON.stringify({ ...JSON.parse(json), seq: 'x', ts: 'yesterday' }); // wrong types (valid JSON)
      case 2:
        return JSON.stringify({ ...JSON.parse(json), v: 2 }); // unknown version
      case 3:
        return JSON.stringify({ ...JSON.parse(json), battery: { soc_pct: 140 } }); // out of range
      default:
        return JSON.stringify({ v: 1, position: { lat: 31.69, lon: 113.38 } }); // missing ts and seq
    }
  }

  private oversize(json: string): string {
    // A batch of copies just over the size limit: well-formed, only too big.
    const copies = Math.ceil(this.rates.oversizeBytes / (json.length + 1)) + 1;
    return `[${Array.from({ length: copies }, () => json).join(',')}]`;
  }
}
