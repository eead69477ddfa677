#!/usr/bin/python3
"""Independent MIDI note extraction with mido (for tests): prints the notes of a MIDI file as JSON.

Usage: midi_notes_mido.py FILE.mid
Output: [{"onset", "offset", "pitch", "velocity", "program", "is_drum", "bends": [[time, semitones], ...]}]
Tempo map from every track; program, bend and open notes per (track, channel); channel 10 is drums
(program 0); a note starting on a bent channel (or at the tick of a bend) gets a first bend point;
a note-off closes the oldest open note of its key; bends (+-2 semitones) attach to the
notes sounding on their channel.
"""
import json
import sys

import mido


def main():
    mid = mido.MidiFile(sys.argv[1])
    tpq = mid.ticks_per_beat
    tempos = [(0, 500000)]
    for track in mid.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "set_tempo":
                tempos.append((tick, msg.tempo))
    tempos.sort(key=lambda t: t[0])

    def seconds(tick):
        s, last_tick, tempo = 0.0, 0, 500000
        for t, tp in tempos:
            if t > tick:
                break
            s += mido.tick2second(t - last_tick, tpq, tempo)
            last_tick, tempo = t, tp
        return s + mido.tick2second(tick - last_tick, tpq, tempo)

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
                     "ch": msg.channel}
                if not drum and (bend[msg.channel] != 0 or bend_tick[msg.channel] == tick):
                    n["bends"].append([n["onset"], bend[msg.channel]])
                open_notes.setdefault((msg.channel, msg.note), []).append(n)
                notes.append(n)
            elif msg.type in ("note_off", "note_on"):
                lst = open_notes.get((msg.channel, msg.note))
                if lst:
                    lst.pop(0)["offset"] = seconds(tick)
    for n in notes:
        del n["ch"]
    json.dump([n for n in notes if n["offset"] is not None], sys.stdout)


if __name__ == "__main__":
    main()
