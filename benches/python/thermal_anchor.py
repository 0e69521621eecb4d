"""Python anchor for benches/thermal.rs: the same work in numpy/scipy on the same files.

Decode the FLIR APP1/FFF container, convert raw counts to degC with the same radiometric equations
(vectorised over the image, as flirimageextractor does), then statistics (min/max/mean/median/p5/p95),
hotspots (median + 5 K, 8-connected components by scipy.ndimage.label, per-component area/peak/mean/centroid),
background median, Sobel gradient and 4x6 cell means. Prints one JSON line per input: median ms per frame.

Usage: python thermal_anchor.py FILE.jpg [FILE.jpg ...]
"""

import io
import json
import struct
import sys
import time

import numpy as np
from PIL import Image
from scipy import ndimage


def fff_from_jpeg(data):
    pos, parts = 2, {}
    while pos + 4 <= len(data):
        marker = data[pos + 1]
        if marker in (0xDA, 0xD9):
            break
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        seg = data[pos + 4 : pos + 2 + length]
        if marker == 0xE1 and seg[:5] == b"FLIR\0":
            parts[seg[6]] = seg[8:]
        pos += 2 + length
    return b"".join(parts[k] for k in sorted(parts))


def decode(data):
    fff = fff_from_jpeg(data)
    ver = struct.unpack(">I", fff[20:24])[0]
    e = ">" if 100 <= ver < 200 else "<"
    diroff, n = struct.unpack(e + "II", fff[24:32])
    raw = cam = None
    for i in range(n):
        kind, _, _, _, off, ln = struct.unpack(e + "HHIIII", fff[diroff + 32 * i : diroff + 32 * i + 20])
        if kind == 1 and raw is None:
            raw = fff[off : off + ln]
        elif kind == 0x20 and cam is None:
            cam = fff[off : off + ln]
    ce = "<" if cam[:2] == b"\x02\x00" else ">"
    f = lambda o: struct.unpack(ce + "f", cam[o : o + 4])[0]
    p = dict(E=f(0x20), OD=f(0x24), RT=f(0x28) - 273.15, AT=f(0x2C) - 273.15, IRWT=f(0x30) - 273.15,
             IRT=f(0x34), RH=f(0x3C), R1=f(0x58), B=f(0x5C), F=f(0x60), A1=f(0x70), A2=f(0x74),
             B1=f(0x78), B2=f(0x7C), X=f(0x80), O=struct.unpack(ce + "i", cam[0x308:0x30C])[0], R2=f(0x30C))
    re = "<" if raw[:2] == b"\x02\x00" else ">"
    w, h = struct.unpack(re + "HH", raw[2:6])
    body = raw[32:]
    if body[:4] == b"\x89PNG":
        counts = np.asarray(Image.open(io.BytesIO(body)), dtype=np.uint16).byteswap()
    elif body[:4] in (b"II*\0", b"MM\0*"):
        counts = np.asarray(Image.open(io.BytesIO(body)), dtype=np.uint16)
    else:
        counts = np.frombuffer(body[: 2 * w * h], dtype=re + "u2").reshape(h, w)
    return counts.astype(np.float64), p


def to_celsius(raw, p):
    def planck(t):
        return p["R1"] / (p["R2"] * (np.exp(p["B"] / (t + 273.15)) - p["F"])) - p["O"]

    t = p["AT"]
    h2o = p["RH"] * np.exp(1.5587 + 0.06939 * t - 0.00027816 * t**2 + 0.00000068455 * t**3)
    sd = np.sqrt(p["OD"] / 2)
    tau = p["X"] * np.exp(-sd * (p["A1"] + p["B1"] * np.sqrt(h2o))) + (1 - p["X"]) * np.exp(
        -sd * (p["A2"] + p["B2"] * np.sqrt(h2o)))
    e, w = p["E"], p["IRT"]
    offset = tau * (w * (tau * (1 - e) * planck(p["RT"]) + (1 - tau) * planck(p["AT"])) + (1 - w) * planck(
        p["IRWT"])) + (1 - tau) * planck(p["AT"])
    s_obj = (raw - offset) / (e * tau * w * tau)
    return p["B"] / np.log(p["R1"] / (p["R2"] * (s_obj + p["O"])) + p["F"]) - 273.15


def analyse(t):
    stats = dict(min=t.min(), max=t.max(), mean=t.mean(), std=t.std())
    med, p05, p95 = np.percentile(t, [50, 5, 95])
    hot = t >= med + 5.0
    labels, n = ndimage.label(hot, structure=np.ones((3, 3)))
    idx = np.arange(1, n + 1)
    areas = ndimage.sum_labels(np.ones_like(t), labels, idx)
    peaks = ndimage.maximum(t, labels, idx)
    means = ndimage.mean(t, labels, idx)
    cents = ndimage.center_of_mass(np.ones_like(t), labels, idx)
    background = np.median(t[labels == 0]) if (labels == 0).any() else med
    g = np.hypot(ndimage.sobel(t, axis=1), ndimage.sobel(t, axis=0)) / 8.0
    h, w = t.shape
    cells = [t[i * h // 4 : (i + 1) * h // 4, j * w // 6 : (j + 1) * w // 6].mean() for i in range(4) for j in range(6)]
    cm = np.median(cells)
    mad = np.median(np.abs(np.array(cells) - cm))
    return stats, med, p05, p95, areas, peaks, means, cents, background, g.max(), cm, mad


def main():
    for path in sys.argv[1:]:
        data = open(path, "rb").read()
        times = []
        for _ in range(30):
            t0 = time.perf_counter()
            raw, p = decode(data)
            t = to_celsius(raw, p)
            out = analyse(t)
            times.append(time.perf_counter() - t0)
        print(json.dumps({"file": path, "median_ms": 1e3 * float(np.median(times)),
                          "min_c": float(out[0]["min"]), "max_c": float(out[0]["max"]),
                          "mean_c": float(out[0]["mean"]), "hotspots": int(len(out[4]))}))


if __name__ == "__main__":
    main()
