#!/usr/bin/python3
"""Independent MIDI note extraction with mido (for tests): prints the notes of a MIDI file as JSON.

Usage: midi_notes_mido.py FILE.mid [FILE.mid ...]
Output (several files: an object mapping each file to its list): [{"onset", "offset", "pitch", "velocity", "program", "is_drum", "bends": [[time, semitones], ...]}]
Tempo map from every track; program, bend and open notes per (track, channel); channel 10 is drums
(program 0); a note starting on a bent channel (or at the tick of a bend) gets a first bend point;
a note-off closes the open notes of its key that started earlier (pretty_midi's rule); notes still on
at the end of a track end there; bends (+-2 semitones) attach to the
notes sounding on their channel.
"""
import bisect
import json
import sys

import mido


def notes_of(path):
    mid = mido.MidiFile(path)
    tpq = mid.ticks_per_beat
    tempos = [(0, 500000)]
    for track in mid.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "set_tempo":
                tempos.append((tick, msg.tempo))
    tempos.sort(key=lambda t: t[0])

    # Cumulative seconds at each tempo change, then a bisection per tick.
    starts, secs, last_tick, tempo, acc = [], [], 0, 500000, 0.0
    for t, tp in tempos:
        acc += mido.tick2second(t - last_tick, tpq, tempo)
        starts.append(t)
        secs.append(acc)
        last_tick, tempo = t, tp
    values = [tp for _, tp in tempos]

    def seconds(tick):
        k = bisect.bisect_right(starts, tick) - 1
        return secs[k] + mido.tick2second(tick - starts[k], tpq, values[k])

    notes = []
    for track in mid.tracks:
        tick = 0
        program = [0] * 16
        open_notes = {}
        bend = [0.0] * 16
        bend_tick = [-1] * 16
        for msg in track:
            tick += msg.time
            if msg.type == "program_change":
                program[msg.channel] = msg.program
            elif msg.type == "pitchwheel":
                semis = msg.pitch / 8192.0 * 2.0
                bend[msg.channel], bend_tick[msg.channel] = semis, tick
                for lst in open_notes.values():
                    for n in lst:
                        if n["ch"] == msg.channel:
                            n["bends"].append([seconds(tick), semis])
            elif msg.type == "note_on" and msg.velocity > 0:
                drum = msg.channel == 9
                n = {"onset": seconds(tick), "offset": None, "pitch": msg.note, "velocity": msg.velocity,
                     "program": 0 if drum else program[msg.channel], "is_drum": int(drum), "bends": [],
                     "ch": msg.channel, "tick": tick}
                if not drum and (bend[msg.channel] != 0 or bend_tick[msg.channel] == tick):
                    n["bends"].append([n["onset"], bend[msg.channel]])
                open_notes.setdefault((msg.channel, msg.note), []).append(n)
                notes.append(n)
            elif msg.type in ("note_off", "note_on"):
                # pretty_midi's rule: close the notes of this key that started earlier; notes
                # that started at this tick stay open if some were closed, else are dropped.
                lst = open_notes.get((msg.channel, msg.note))
                if lst:
                    earlier = [n for n in lst if n["tick"] != tick]
                    same = [n for n in lst if n["tick"] == tick]
                    for n in earlier:
                        n["offset"] = seconds(tick)
                    if earlier and same:
                        open_notes[(msg.channel, msg.note)] = same
                    else:
                        del open_notes[(msg.channel, msg.note)]
        # Notes still sounding end at the track's last event (dropped if they start there).
        for lst in open_notes.values():
            for n in lst:
                if n["tick"] != tick:
                    n["offset"] = seconds(tick)
    for n in notes:
        del n["ch"], n["tick"]
    return [n for n in notes if n["offset"] is not None]


def main():
    files = sys.argv[1:]
    if len(files) == 1:
        json.dump(notes_of(files[0]), sys.stdout)
    else:
        json.dump({f: notes_of(f) for f in files}, sys.stdout)


if __name__ == "__main__":
    main()
