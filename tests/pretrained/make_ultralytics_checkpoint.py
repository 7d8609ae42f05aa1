#!/usr/bin/env python3
"""Writes a checkpoint in Ultralytics' format, for the engine's tests, with Debian's python3-torch.

The stand-in package beside this script has Ultralytics' module paths and attribute layout, so
the file pickles the same classes (ultralytics.nn.tasks.DetectionModel, ...modules.conv.Conv, ...)
and the same dictionary as Ultralytics' trainer (final: strip_optimizer's layout, the float16 EMA
as "model"; training: save_model's, the float16 EMA as "ema", "model" None).

With --manifest, it also writes the oracle the C++ tests compare against: every state-dict tensor
as stored (float16 for floating point), as raw bytes in PATH.blob, described in PATH.json.
"""
import argparse
import json
import os
import sys
import types

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "standin"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import yaml  # noqa: E402

import ultralytics  # noqa: E402  (the stand-in)
from ultralytics.nn import tasks  # noqa: E402


DTYPES = {"float16": np.float16, "float32": np.float32, "int64": np.int64}


def read_manifest(path):
    with open(path + ".json") as f:
        manifest = json.load(f)
    with open(path + ".blob", "rb") as f:
        blob = f.read()
    state = {}
    for t in manifest["tensors"]:
        data = np.frombuffer(blob[t["offset"]:t["offset"] + t["bytes"]], dtype=DTYPES[t["dtype"]])
        state[t["name"]] = torch.from_numpy(data.copy().reshape(t["shape"]))
    return state


def build(args):
    with open(args.yaml) as f:
        cfg = yaml.safe_load(f)
    cfg["scale"] = args.scale
    cfg["yaml_file"] = f"yolov8{args.scale}.yaml"
    cls = {"detect": tasks.DetectionModel, "segment": tasks.SegmentationModel, "pose": tasks.PoseModel}[args.task]
    torch.manual_seed(args.seed)
    model = cls(cfg, nc=args.nc)
    with torch.no_grad():
        # Statistics and affine parameters unlike their initial values, so that a tensor landing
        # in the wrong place shows.
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.normal_(1.0, 0.2)
                m.bias.normal_(0.0, 0.2)
                m.running_mean.normal_(0.0, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.num_batches_tracked.fill_(int(torch.randint(1, 10000, ())))
    if args.tensors:
        # Tensors in Ultralytics' names, as PATH.json and PATH.blob in the manifest's format (the
        # end-to-end test's own run, written by the C++ test): every one must fit.
        model.load_state_dict(read_manifest(args.tensors), strict=True)
    names = args.names.split(",") if args.names else [f"class{i}" for i in range(model.yaml["nc"])]
    model.names = dict(enumerate(names))
    model.nc = len(names)
    if args.family == "v5":
        model.yaml["backbone"][2][2] = "C3"
        model.yaml["yaml_file"] = "yolov5nu.yaml"
    return model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--yaml", required=True)
    parser.add_argument("--scale", default="n")
    parser.add_argument("--nc", type=int, default=80)
    parser.add_argument("--names", default="")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--layout", choices=["final", "training", "plain"], default="final")
    parser.add_argument("--task", choices=["detect", "segment", "pose"], default="detect")
    parser.add_argument("--family", choices=["v8", "v5"], default="v8")
    parser.add_argument("--tensors", default="", help="PATH of PATH.json and PATH.blob to load")
    parser.add_argument("--manifest", default="")
    args = parser.parse_args()

    model = build(args).half()
    for p in model.parameters():
        p.requires_grad = False
    metadata = {
        "date": "2026-12-02T00:00:00",
        "version": ultralytics.__version__,
        "license": "AGPL-3.0 License (https://ultralytics.com/license)",
        "docs": "https://docs.ultralytics.com",
    }
    if args.layout == "final":
        model.args = {"task": "detect", "imgsz": 320, "epochs": 3}
        ckpt = {**metadata, "epoch": -1, "best_fitness": None, "model": model, "ema": None,
                "updates": None, "optimizer": None,
                "train_args": {"model": "yolov8n.yaml", "imgsz": 320, "freeze": None, "lr0": 0.01},
                "train_metrics": {"metrics/mAP50(B)": 0.5, "fitness": np.float64(0.25)},
                "train_results": {"epoch": [1, 2, 3], "train/box_loss": [3.1, 2.9, 2.7]}}
    elif args.layout == "training":
        model.args = types.SimpleNamespace(task="detect", imgsz=320)
        ckpt = {**metadata, "epoch": 2, "best_fitness": np.float64(0.25), "model": None, "ema": model,
                "updates": 120, "optimizer": {"state": {}, "param_groups": [{"lr": 0.001, "params": [0, 1]}]},
                "train_args": {"model": "yolov8n.yaml", "imgsz": 320}}
    else:  # a plain torch.save of tensors: not an Ultralytics checkpoint
        ckpt = {"weights": torch.zeros(3), "step": 7}
    torch.save(ckpt, args.out)

    if args.manifest:
        entries, offset = [], 0
        with open(args.manifest + ".blob", "wb") as blob:
            for name, tensor in model.state_dict().items():
                data = tensor.detach().contiguous().cpu().numpy().tobytes()
                entries.append({"name": name, "dtype": str(tensor.dtype).replace("torch.", ""),
                                "shape": list(tensor.shape), "offset": offset, "bytes": len(data)})
                blob.write(data)
                offset += len(data)
        with open(args.manifest + ".json", "w") as f:
            json.dump({"tensors": entries, "names": list(model.names.values())}, f)


if __name__ == "__main__":
    main()
