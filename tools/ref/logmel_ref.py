#!/usr/bin/python3
"""Independent numpy reference of MT3's log-mel spectrogram (float64 throughout).

MT3 (mt3/spectrograms.py) calls ddsp.spectral_ops.compute_logmel(samples, bins=512, lo_hz=20,
overlap=1 - 128/2048, fft_size=2048, sample_rate=16000), i.e.
  tf.signal.stft(frame_length=2048, frame_step=128, fft_length=2048, pad_end=True, periodic Hann)
  -> abs -> tensordot with tf.signal.linear_to_mel_weight_matrix(512, 1025, 16000, 20, 7600)
  -> ddsp.core.safe_log: log(where(x <= 1e-5, 1e-5, x)).
This file re-derives each step from those definitions with numpy; it never calls the C code.

usage: logmel_ref.py IN.f32 OUT.f32 [--sr 16000 --fft 2048 --hop 128 --mels 512 --lo 20 --hi 7600 --floor 1e-5]
IN is raw little-endian float32 mono samples; OUT gets float32 [frames x mels] row-major.
"""
import argparse
import numpy as np


def hz_to_mel(hz):
    return 1127.0 * np.log(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def mel_matrix(n_mels, n_bins, sr, lo, hi):
    """tf.signal.linear_to_mel_weight_matrix: HTK mel, triangles over linear bins, DC row zero."""
    freqs = np.linspace(0.0, sr / 2.0, n_bins)[1:]
    bins_mel = hz_to_mel(freqs)[:, None]
    edges = np.linspace(hz_to_mel(lo), hz_to_mel(hi), n_mels + 2)
    lower, center, upper = edges[:-2][None, :], edges[1:-1][None, :], edges[2:][None, :]
    lower_slopes = (bins_mel - lower) / (center - lower)
    upper_slopes = (upper - bins_mel) / (upper - center)
    w = np.maximum(0.0, np.minimum(lower_slopes, upper_slopes))
    return np.vstack([np.zeros((1, n_mels)), w])


def logmel(x, sr=16000, fft=2048, hop=128, mels=512, lo=20.0, hi=7600.0, floor=1e-5):
    x = np.asarray(x, dtype=np.float64)
    n_frames = -(-len(x) // hop)
    padded = np.zeros((n_frames - 1) * hop + fft if n_frames else 0)
    padded[:len(x)] = x
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(fft) / fft)  # periodic Hann
    idx = np.arange(n_frames)[:, None] * hop + np.arange(fft)[None, :]
    frames = padded[idx] * window[None, :]
    mag = np.abs(np.fft.rfft(frames, n=fft, axis=1))
    mel = mag @ mel_matrix(mels, fft // 2 + 1, sr, lo, hi)
    return np.log(np.maximum(mel, floor))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('inp')
    ap.add_argument('out')
    ap.add_argument('--sr', type=int, default=16000)
    ap.add_argument('--fft', type=int, default=2048)
    ap.add_argument('--hop', type=int, default=128)
    ap.add_argument('--mels', type=int, default=512)
    ap.add_argument('--lo', type=float, default=20.0)
    ap.add_argument('--hi', type=float, default=7600.0)
    ap.add_argument('--floor', type=float, default=1e-5)
    a = ap.parse_args()
    x = np.fromfile(a.inp, dtype='<f4')
    y = logmel(x, a.sr, a.fft, a.hop, a.mels, a.lo, a.hi, a.floor)
    y.astype('<f4').tofile(a.out)


if __name__ == '__main__':
    main()
