#!/usr/bin/env python3
"""Converts an Ultralytics checkpoint into a plain file syncbn-engine reads as starting weights.

syncbn-engine reads Ultralytics .pt files directly (docs/pretrained.md). This script is the other
way, for a file it cannot read: one saved in PyTorch's legacy (pre-1.6) format, or one whose
pickle holds objects the engine's reader does not know. Run it where Ultralytics is installed:

    python3 scripts/ultralytics-to-syncbn.py yolov8n.pt yolov8n-plain.pt

The output is a torch.save zip holding only plain Python values and tensors:
{"format": "syncbn-pretrained-1", "yaml": the model definition, "names": {id: name},
 "state_dict": {name: tensor}, "version": Ultralytics' version, "taken": "ema" or "model"}.
"""
import argparse
import sys

import torch


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="an Ultralytics checkpoint (.pt)")
    parser.add_argument("target", help="the plain checkpoint to write (.pt)")
    args = parser.parse_args()
    try:
        import ultralytics  # noqa: F401  (torch.load needs its classes)
    except ImportError:
        sys.exit("ultralytics-to-syncbn: Ultralytics is not installed here (pip install ultralytics)")
    try:
        ckpt = torch.load(args.source, map_location="cpu", weights_only=False)
    except TypeError:  # PyTorch before 1.13 has no weights_only
        ckpt = torch.load(args.source, map_location="cpu")
    taken = "ema" if isinstance(ckpt, dict) and ckpt.get("ema") is not None else "model"
    model = ckpt.get(taken) if isinstance(ckpt, dict) else None
    if model is None or not hasattr(model, "yaml"):
        sys.exit(f"ultralytics-to-syncbn: {args.source} holds no Ultralytics model under 'ema' or 'model'")
    plain = {
        "format": "syncbn-pretrained-1",
        "yaml": dict(model.yaml),
        "names": dict(getattr(model, "names", {}) or {}),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "version": str(ckpt.get("version", "")),
        "taken": taken,
        "train_args": {"imgsz": int(ckpt.get("train_args", {}).get("imgsz", 0) or 0)},
    }
    torch.save(plain, args.target)
    print(f"ultralytics-to-syncbn: wrote {len(plain['state_dict'])} tensors of {model.yaml.get('yaml_file', 'the model')} to {args.target}")


if __name__ == "__main__":
    main()
