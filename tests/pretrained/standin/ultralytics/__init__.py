# A stand-in for the Ultralytics package: the module paths and attribute layout its checkpoints
# pickle (ultralytics.nn.tasks.DetectionModel and its blocks), so tests can write files in that
# format with Debian's python3-torch alone. It builds YOLOv8 layers only and runs no training.
__version__ = "8.3.186"
