#!/usr/bin/python3
"""An independent reader of TensorBoard event files, for the tests.

  read_tfevents.py PROTO_DIR FILE...

Checks the TFRecord framing of every record (length, masked CRC-32C of the length, data, masked
CRC-32C of the data) with a bitwise CRC-32C written here, decodes each record as an Event with
the protobuf runtime (Debian's python3-protobuf) from PROTO_DIR's .proto files compiled by protoc,
and prints {"file_version": ..., "records": N, "scalars": [[tag, step, value, wall_time], ...]}.
Exits 1 naming the file and offset of the first bad record.
"""
import json
import struct
import subprocess
import sys
import tempfile


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def masked(crc):
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def main():
    proto_dir, files = sys.argv[1], sys.argv[2:]
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(["protoc", "-I" + proto_dir, "--python_out=" + out, "event.proto",
                        "summary.proto"], check=True)
        sys.path.insert(0, out)
        import event_pb2  # noqa: E402 (generated above)

        result = {"file_version": None, "records": 0, "scalars": []}
        for name in files:
            data = open(name, "rb").read()
            pos = 0
            while pos < len(data):
                header = data[pos:pos + 8]
                if len(header) < 8 or len(data) < pos + 12:
                    sys.exit("%s:%d: truncated record header" % (name, pos))
                (length,) = struct.unpack("<Q", header)
                (header_crc,) = struct.unpack("<I", data[pos + 8:pos + 12])
                if header_crc != masked(crc32c(header)):
                    sys.exit("%s:%d: bad length CRC" % (name, pos))
                body = data[pos + 12:pos + 12 + length]
                tail = data[pos + 12 + length:pos + 16 + length]
                if len(body) != length or len(tail) != 4:
                    sys.exit("%s:%d: truncated record" % (name, pos))
                if struct.unpack("<I", tail)[0] != masked(crc32c(body)):
                    sys.exit("%s:%d: bad data CRC" % (name, pos))
                event = event_pb2.Event()
                event.ParseFromString(body)
                if event.HasField("file_version"):
                    result["file_version"] = event.file_version
                for value in event.summary.value:
                    result["scalars"].append([value.tag, event.step, value.simple_value,
                                              event.wall_time])
                result["records"] += 1
                pos += 16 + length
        print(json.dumps(result))


main()
