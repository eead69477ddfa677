// General MIDI instrument families: names, colours for the piano roll and the voice the
// synthesiser uses for each.

export const FAMILIES = [
  { name: 'Piano', color: '#f4b942', voice: 'piano' },
  { name: 'Chromatic percussion', color: '#e8e07a', voice: 'plucked' },
  { name: 'Organ', color: '#c68af0', voice: 'sustained' },
  { name: 'Guitar', color: '#ff9d5c', voice: 'plucked' },
  { name: 'Bass', color: '#58c4dd', voice: 'bass' },
  { name: 'Strings', color: '#8fd19e', voice: 'sustained' },
  { name: 'Ensemble', color: '#6fcf97', voice: 'sustained' },
  { name: 'Brass', color: '#f2994a', voice: 'sustained' },
  { name: 'Reed', color: '#ee7e9c', voice: 'sustained' },
  { name: 'Pipe', color: '#9bd8f2', voice: 'sustained' },
  { name: 'Synth lead', color: '#d98cf5', voice: 'sustained' },
  { name: 'Synth pad', color: '#a5a9f7', voice: 'sustained' },
  { name: 'Synth effects', color: '#7f8cf0', voice: 'sustained' },
  { name: 'Ethnic', color: '#e6b673', voice: 'plucked' },
  { name: 'Percussive', color: '#d4a373', voice: 'plucked' },
  { name: 'Sound effects', color: '#9aa5b1', voice: 'sustained' },
];
export const DRUMS = { name: 'Drums', color: '#ff6b6b', voice: 'drums' };
export const VOICE = { name: 'Voice', color: '#ffd6e8', voice: 'sustained' };

const NAMES = ['C', 'C♯', 'D', 'E♭', 'E', 'F', 'F♯', 'G', 'A♭', 'A', 'B♭', 'B'];

/** Instrument key used for colours and the legend: 'drums' or 'family:N'. */
export function instrumentKey(note) {
  if (note.isDrum) return 'drums';
  return `family:${familyIndex(note.program)}`;
}

export function familyIndex(program) {
  const p = Number.isInteger(program) ? program : 0;
  return Math.max(0, Math.min(15, p >> 3));
}

export function instrumentInfo(key) {
  if (key === 'drums') return DRUMS;
  return FAMILIES[Number(key.split(':')[1])] ?? FAMILIES[0];
}

export function noteInfo(note) {
  return note.isDrum ? DRUMS : FAMILIES[familyIndex(note.program)];
}

export function pitchName(pitch) {
  return `${NAMES[((pitch % 12) + 12) % 12]}${Math.floor(pitch / 12) - 1}`;
}

export function isBlackKey(pitch) {
  return [1, 3, 6, 8, 10].includes(((pitch % 12) + 12) % 12);
}

/** General MIDI percussion names for the notes drum transcriptions use most. */
const DRUM_NAMES = {
  35: 'Kick', 36: 'Kick', 37: 'Side stick', 38: 'Snare', 39: 'Clap', 40: 'Snare', 41: 'Low tom',
  42: 'Closed hi-hat', 43: 'Low tom', 44: 'Pedal hi-hat', 45: 'Mid tom', 46: 'Open hi-hat', 47: 'Mid tom',
  48: 'High tom', 49: 'Crash', 50: 'High tom', 51: 'Ride', 52: 'China', 53: 'Ride bell', 55: 'Splash', 57: 'Crash',
  59: 'Ride',
};
export function drumName(pitch) { return DRUM_NAMES[pitch] ?? `Percussion ${pitch}`; }

/** m:ss.d… with `decimals` digits after the point. The whole time is rounded first, in units of
 * the last digit, so 59.96 s at one decimal is 1:00.0 (not 0:60.0). */
export function formatTime(sec, decimals = 1) {
  const unit = 10 ** decimals;
  const units = Math.round(Math.max(0, sec) * unit);
  const m = Math.floor(units / (60 * unit));
  const rest = (units - m * 60 * unit) / unit;
  const str = rest.toFixed(decimals).padStart(decimals ? 3 + decimals : 2, '0');
  return `${m}:${str}`;
}

/** Decimals a time label needs to show multiples of `step` seconds exactly (0.25 -> 2, 0.5 -> 1). */
export function stepDecimals(step) {
  for (let d = 0; d < 3; d++) if (Math.abs(step * 10 ** d - Math.round(step * 10 ** d)) < 1e-9) return d;
  return 3;
}
