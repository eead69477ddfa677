// Audio capture worklet: copies each 128-frame block of the first input channel (or the
// mean of the channels) to the engine worker. Nothing else happens on the audio thread.
//  - With a SharedArrayBuffer ring (page is crossOriginIsolated): writes into the ring and
//    wakes the worker with Atomics.notify. Layout: Int32 [write, read, dropped, closed],
//    then `capacity` float32 samples (capacity a power of two; indices wrap at 2^32).
//  - Otherwise: gathers blocks into small batches and transfers them through a MessagePort
//    the page hands over ({port}) that leads straight to the worker.

const BATCH = 512;

class ScribeCapture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const ring = options?.processorOptions?.ring;
    if (ring) {
      this.head = new Int32Array(ring.sab, 0, 4);
      this.data = new Float32Array(ring.sab, 16, ring.capacity);
      this.capacity = ring.capacity;
    }
    this.out = null;
    this.batch = new Float32Array(BATCH);
    this.fill = 0;
    this.running = true;
    this.port.onmessage = (e) => {
      if (e.data?.port) this.out = e.data.port;
      if (e.data?.stop) this.running = false;
    };
  }

  process(inputs) {
    if (!this.running) return false;
    const input = inputs[0];
    if (!input || input.length === 0) return true;
    const n = input[0].length;
    if (this.head) {
      if (Atomics.load(this.head, 3)) { this.running = false; return false; }
      const w = Atomics.load(this.head, 0);
      const r = Atomics.load(this.head, 1);
      if (((w - r) >>> 0) + n > this.capacity) {
        Atomics.add(this.head, 2, n); // the worker fell behind: drop this block, count it
        return true;
      }
      let idx = (w >>> 0) % this.capacity;
      for (let i = 0; i < n; i++) {
        this.data[idx] = mix(input, i);
        idx = idx + 1 === this.capacity ? 0 : idx + 1;
      }
      Atomics.store(this.head, 0, (w + n) | 0);
      Atomics.notify(this.head, 0);
    } else if (this.out) {
      for (let i = 0; i < n; i++) {
        this.batch[this.fill++] = mix(input, i);
        if (this.fill === BATCH) {
          this.out.postMessage(this.batch, [this.batch.buffer]);
          this.batch = new Float32Array(BATCH);
          this.fill = 0;
        }
      }
    }
    return true;
  }
}

function mix(input, i) {
  if (input.length === 1) return input[0][i];
  let s = 0;
  for (let c = 0; c < input.length; c++) s += input[c][i];
  return s / input.length;
}

registerProcessor('scribe-capture', ScribeCapture);
