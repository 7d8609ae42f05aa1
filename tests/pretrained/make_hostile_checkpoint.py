#!/usr/bin/env python3
"""Writes a torch.save-style archive whose one tensor is malformed, for the reader's tests.

    make_hostile_checkpoint.py OUT.pt KIND

KIND: huge-view (a 2^40 x 2^40 view of 4 floats, stride 0), outside (a view reading past its
storage), short-storage (a storage record shorter than its element count), deep (a parameter of
a parameter of ... 200 deep). torch.save cannot write these, so the pickle is written opcode by
opcode with the globals and persistent ids torch.save writes (pickletools.py names them).
"""
import struct
import sys
import zipfile


class Pickle:
    def __init__(self):
        self.out = bytearray(b"\x80\x02")  # PROTO 2, as torch.save

    def op(self, code):
        self.out += code

    def glob(self, module, name):  # GLOBAL
        self.out += b"c" + module.encode() + b"\n" + name.encode() + b"\n"

    def string(self, text):  # BINUNICODE
        data = text.encode()
        self.out += b"X" + struct.pack("<I", len(data)) + data

    def integer(self, n):  # LONG1, 8 bytes
        self.out += b"\x8a\x08" + struct.pack("<q", n)

    def ints(self, values):  # MARK ... TUPLE
        self.op(b"(")
        for v in values:
            self.integer(v)
        self.op(b"t")


def main():
    out, kind = sys.argv[1], sys.argv[2]
    numel = 8 if kind == "short-storage" else 4  # the record always holds 4 floats
    size, stride = {"huge-view": ((1 << 40, 1 << 40), (0, 0)), "outside": ((4,), (2,)),
                    "short-storage": ((8,), (1,)), "deep": ((4,), (1,))}[kind]
    p = Pickle()
    p.op(b"}(")  # the checkpoint dict
    p.string("model")
    p.glob("ultralytics.nn.tasks", "DetectionModel")
    p.op(b")\x81}(")  # NEWOBJ, then its __dict__ (BUILD below)
    p.string("yaml")
    p.op(b"}(")
    p.string("backbone")
    p.op(b"]")
    p.string("head")
    p.op(b"]u")
    p.string("_parameters")
    p.op(b"}(")
    p.string("w")
    depth = 200 if kind == "deep" else 0
    for _ in range(depth):  # _rebuild_parameter(_rebuild_parameter(... tensor ...), False, ())
        p.glob("torch._utils", "_rebuild_parameter")
        p.op(b"(")
    p.glob("torch._utils", "_rebuild_tensor_v2")
    p.op(b"(")
    p.op(b"(")
    p.string("storage")
    p.glob("torch", "FloatStorage")
    p.string("0")
    p.string("cpu")
    p.integer(numel)
    p.op(b"tQ")  # the id tuple, BINPERSID
    p.integer(0)
    p.ints(size)
    p.ints(stride)
    p.op(b"\x89")  # requires_grad False
    p.glob("collections", "OrderedDict")
    p.op(b")R")  # backward hooks: OrderedDict()
    p.op(b"tR")  # _rebuild_tensor_v2(...)
    for _ in range(depth):
        p.op(b"\x89)tR")  # , False, ()) -> _rebuild_parameter(...)
    p.op(b"u")  # _parameters
    p.op(b"ub")  # the model's __dict__, BUILD
    p.op(b"u.")  # the checkpoint dict, STOP
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", bytes(p.out))
        z.writestr("archive/data/0", struct.pack("<4f", 1, 2, 3, 4))
        z.writestr("archive/version", "3\n")


if __name__ == "__main__":
    main()
