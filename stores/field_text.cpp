#include "stores/field_text.h"

#include <QCoreApplication>
#include <array>

#include "common/config_schema.h"
#include "stores/qt_text.h"

namespace studio {
namespace {

constexpr const char* kContext = "FieldText";

struct Entry {
  const char* path;
  const char* label;
  const char* toolTip;
  const char* placeholder = nullptr;
  const char* unit = nullptr;
  BrowseKind browse = BrowseKind::None;
  const char* fileFilter = nullptr;
};

// QT_TRANSLATE_NOOP marks the strings for lupdate; fieldText() translates them when asked, so a
// language installed after start-up still applies.
const std::array kEntries{
    Entry{"data.data", QT_TRANSLATE_NOOP("FieldText", "Dataset"),
          QT_TRANSLATE_NOOP("FieldText",
                            "An Ultralytics data.yaml, or 'demo' for the built-in synthetic "
                            "dataset."),
          QT_TRANSLATE_NOOP("FieldText", "demo, or path/to/data.yaml"), nullptr, BrowseKind::File,
          QT_TRANSLATE_NOOP("FieldText", "Dataset YAML (*.yaml *.yml);;All files (*)")},
    Entry{"data.imgsz", QT_TRANSLATE_NOOP("FieldText", "Image size"),
          QT_TRANSLATE_NOOP("FieldText",
                            "Training and validation image size in pixels; a multiple of 32, the "
                            "detector's largest stride."),
          nullptr, QT_TRANSLATE_NOOP("FieldText", " px")},
    Entry{"data.max_image_pixels", QT_TRANSLATE_NOOP("FieldText", "Image pixel limit"),
          QT_TRANSLATE_NOOP("FieldText",
                            "Images with more pixels than this are reported when the dataset is "
                            "verified; above twice this they are refused without being decoded, "
                            "as Pillow refuses decompression bombs (default 89478485, Pillow's). "
                            "0 turns the limit off."),
          nullptr, QT_TRANSLATE_NOOP("FieldText", " px")},
    Entry{"data.cache_mb", QT_TRANSLATE_NOOP("FieldText", "Image cache"),
          QT_TRANSLATE_NOOP("FieldText",
                            "RAM each rank may use to keep decoded, resized images, so that an "
                            "image is decoded once instead of on every use (a mosaic uses four). "
                            "At most a quarter of the free memory is used, shared by the ranks. "
                            "0 decodes every time."),
          nullptr, QT_TRANSLATE_NOOP("FieldText", " MiB")},
    Entry{"model.model", QT_TRANSLATE_NOOP("FieldText", "Model"),
          QT_TRANSLATE_NOOP("FieldText",
                            "A scale (n, s, m, l, x), a built-in yolov8n.yaml to yolov8x.yaml, "
                            "the path of a model YAML, or starting weights to fine-tune: an "
                            "Ultralytics checkpoint (yolov8n.pt) or a run's best.pt."),
          QT_TRANSLATE_NOOP("FieldText", "yolov8n.yaml, path/to/model.yaml or yolov8n.pt"), nullptr,
          BrowseKind::File,
          QT_TRANSLATE_NOOP("FieldText",
                            "Models and weights (*.yaml *.yml *.pt *.pth);;Model YAML (*.yaml "
                            "*.yml);;Weights (*.pt *.pth);;All files (*)")},

    Entry{"train.epochs", QT_TRANSLATE_NOOP("FieldText", "Epochs"),
          QT_TRANSLATE_NOOP("FieldText", "Passes over the training set.")},
    Entry{"train.batch", QT_TRANSLATE_NOOP("FieldText", "Global batch"),
          QT_TRANSLATE_NOOP("FieldText",
                            "Images per iteration over all ranks together; split evenly across "
                            "the ranks.")},
    Entry{"train.patience", QT_TRANSLATE_NOOP("FieldText", "Patience"),
          QT_TRANSLATE_NOOP("FieldText",
                            "Stop after this many epochs without improvement (0 = never stop "
                            "early)."),
          nullptr, QT_TRANSLATE_NOOP("FieldText", " epochs")},
    Entry{"train.freeze", QT_TRANSLATE_NOOP("FieldText", "Freeze layers"),
          QT_TRANSLATE_NOOP("FieldText",
                            "Fine-tuning: the first N layers keep their pretrained weights and do "
                            "not train (10 is YOLOv8's backbone). 0 trains every layer."),
          nullptr, QT_TRANSLATE_NOOP("FieldText", " layers")},
    Entry{"train.close_mosaic", QT_TRANSLATE_NOOP("FieldText", "Close mosaic"),
          QT_TRANSLATE_NOOP("FieldText", "Turn mosaic augmentation off for the last N epochs."),
          nullptr, QT_TRANSLATE_NOOP("FieldText", " epochs")},
    Entry{"train.seed", QT_TRANSLATE_NOOP("FieldText", "Seed"),
          QT_TRANSLATE_NOOP("FieldText", "Random seed.")},
    Entry{"train.deterministic", QT_TRANSLATE_NOOP("FieldText", "Deterministic"),
          QT_TRANSLATE_NOOP("FieldText",
                            "Use deterministic algorithms: reproducible runs, sometimes slower.")},
    Entry{"train.workers", QT_TRANSLATE_NOOP("FieldText", "Loader workers"),
          QT_TRANSLATE_NOOP("FieldText", "Data loader threads per rank.")},
    Entry{"train.amp", QT_TRANSLATE_NOOP("FieldText", "Mixed precision"),
          QT_TRANSLATE_NOOP("FieldText",
                            "Automatic mixed precision. CUDA only: on the CPU training runs in "
                            "float32.")},
    Entry{"train.optimizer", QT_TRANSLATE_NOOP("FieldText", "Optimizer"),
          QT_TRANSLATE_NOOP("FieldText",
                            "auto picks SGD or AdamW from the length of the run, as Ultralytics "
                            "does.")},
    Entry{"train.lr0", QT_TRANSLATE_NOOP("FieldText", "Initial learning rate"),
          QT_TRANSLATE_NOOP("FieldText", "Learning rate after warmup.")},
    Entry{"train.lrf", QT_TRANSLATE_NOOP("FieldText", "Final learning rate"),
          QT_TRANSLATE_NOOP("FieldText", "Final learning rate as a fraction of lr0.")},
    Entry{"train.cos_lr", QT_TRANSLATE_NOOP("FieldText", "Cosine decay"),
          QT_TRANSLATE_NOOP("FieldText",
                            "Decay the learning rate along a cosine instead of a straight line.")},
    Entry{"train.momentum", QT_TRANSLATE_NOOP("FieldText", "Momentum"),
          QT_TRANSLATE_NOOP("FieldText", "SGD momentum, or Adam's beta1.")},
    Entry{"train.weight_decay", QT_TRANSLATE_NOOP("FieldText", "Weight decay"),
          QT_TRANSLATE_NOOP("FieldText", "Weight decay at the nominal batch size.")},
    Entry{"train.nbs", QT_TRANSLATE_NOOP("FieldText", "Nominal batch"),
          QT_TRANSLATE_NOOP("FieldText",
                            "Gradients accumulate over iterations until about this many images, "
                            "then the optimizer steps. BatchNorm still sees one iteration's "
                            "images.")},
    Entry{"train.warmup_epochs", QT_TRANSLATE_NOOP("FieldText", "Warmup epochs"),
          QT_TRANSLATE_NOOP("FieldText", "Warmup length in epochs; fractions are allowed.")},
    Entry{"train.warmup_momentum", QT_TRANSLATE_NOOP("FieldText", "Warmup momentum"),
          QT_TRANSLATE_NOOP("FieldText", "Momentum at the start of warmup.")},
    Entry{"train.warmup_bias_lr", QT_TRANSLATE_NOOP("FieldText", "Warmup bias learning rate"),
          QT_TRANSLATE_NOOP("FieldText", "Learning rate of the biases at the start of warmup.")},

    Entry{"train.hsv_h", QT_TRANSLATE_NOOP("FieldText", "Hue jitter"),
          QT_TRANSLATE_NOOP("FieldText", "Random hue change, as a fraction.")},
    Entry{"train.hsv_s", QT_TRANSLATE_NOOP("FieldText", "Saturation jitter"),
          QT_TRANSLATE_NOOP("FieldText", "Random saturation change, as a fraction.")},
    Entry{"train.hsv_v", QT_TRANSLATE_NOOP("FieldText", "Brightness jitter"),
          QT_TRANSLATE_NOOP("FieldText", "Random value (brightness) change, as a fraction.")},
    Entry{"train.degrees", QT_TRANSLATE_NOOP("FieldText", "Rotation"),
          QT_TRANSLATE_NOOP("FieldText", "Random rotation, plus or minus this many degrees."),
          nullptr, QT_TRANSLATE_NOOP("FieldText", "°")},
    Entry{"train.translate", QT_TRANSLATE_NOOP("FieldText", "Translation"),
          QT_TRANSLATE_NOOP("FieldText",
                            "Random shift, plus or minus this fraction of the image size.")},
    Entry{"train.scale", QT_TRANSLATE_NOOP("FieldText", "Scale"),
          QT_TRANSLATE_NOOP("FieldText", "Random scale gain, plus or minus this fraction.")},
    Entry{"train.shear", QT_TRANSLATE_NOOP("FieldText", "Shear"),
          QT_TRANSLATE_NOOP("FieldText", "Random shear, plus or minus this many degrees."), nullptr,
          QT_TRANSLATE_NOOP("FieldText", "°")},
    Entry{"train.fliplr", QT_TRANSLATE_NOOP("FieldText", "Horizontal flip"),
          QT_TRANSLATE_NOOP("FieldText", "Probability of flipping an image left to right.")},
    Entry{"train.mosaic", QT_TRANSLATE_NOOP("FieldText", "Mosaic"),
          QT_TRANSLATE_NOOP("FieldText", "Probability of combining four images into a mosaic.")},
    Entry{"train.augment", QT_TRANSLATE_NOOP("FieldText", "Augment"),
          QT_TRANSLATE_NOOP("FieldText",
                            "Augment training images. Off: images are only letterboxed, which "
                            "makes runs comparable image for image.")},

    Entry{"output.project", QT_TRANSLATE_NOOP("FieldText", "Project directory"),
          QT_TRANSLATE_NOOP("FieldText",
                            "Directory that holds the runs; a run is written to project/name."),
          nullptr, nullptr, BrowseKind::Directory},
    Entry{"output.name", QT_TRANSLATE_NOOP("FieldText", "Run name"),
          QT_TRANSLATE_NOOP("FieldText",
                            "Name of this run's directory inside the project directory.")},
    Entry{"output.exist_ok", QT_TRANSLATE_NOOP("FieldText", "Reuse run directory"),
          QT_TRANSLATE_NOOP("FieldText",
                            "Write into an existing run directory instead of numbering a new "
                            "one.")},
    Entry{"output.checkpoint_interval", QT_TRANSLATE_NOOP("FieldText", "Checkpoint interval"),
          QT_TRANSLATE_NOOP("FieldText",
                            "Iterations between checkpoints (0 = only at the end of each "
                            "epoch)."),
          nullptr, QT_TRANSLATE_NOOP("FieldText", " iterations")},
    Entry{"output.resume", QT_TRANSLATE_NOOP("FieldText", "Resume"),
          QT_TRANSLATE_NOOP("FieldText",
                            "Continue the run in project/name from its last checkpoint, exactly "
                            "where it stopped.")},
    Entry{"output.tensorboard", QT_TRANSLATE_NOOP("FieldText", "TensorBoard logs"),
          QT_TRANSLATE_NOOP("FieldText",
                            "Write the losses, learning rate, speed, per-rank timings, validation "
                            "and BatchNorm figures as TensorBoard event files in the run "
                            "directory's tb/ folder: tensorboard --logdir runs/train.")},
    Entry{"output.best_fp16", QT_TRANSLATE_NOOP("FieldText", "Half-precision best.pt"),
          QT_TRANSLATE_NOOP("FieldText",
                            "Store best.pt's weights in float16, as Ultralytics does: half the "
                            "file, and float16 rounding in validation, prediction and export. "
                            "last.pt always keeps float32.")},

    Entry{"distributed.device", QT_TRANSLATE_NOOP("FieldText", "Devices"),
          QT_TRANSLATE_NOOP("FieldText",
                            "Empty: every CUDA device, or the CPU when there is none. 'cpu': the "
                            "CPU. Otherwise CUDA device ids such as 0,1."),
          QT_TRANSLATE_NOOP("FieldText", "auto (every CUDA device, else the CPU)")},
    Entry{"distributed.cpu_ranks", QT_TRANSLATE_NOOP("FieldText", "CPU ranks"),
          QT_TRANSLATE_NOOP("FieldText", "Processes per node when training on the CPU.")},
    Entry{"distributed.cpu_threads", QT_TRANSLATE_NOOP("FieldText", "Threads per CPU rank"),
          QT_TRANSLATE_NOOP("FieldText",
                            "Compute threads of each CPU rank. 0 (auto) shares out the cores "
                            "that other programs left free when the run started: a core busy "
                            "with another job is left to it, because a thread that shares it "
                            "holds up every other thread. Set a number to reproduce a run "
                            "exactly: results depend on the thread count."),
          QT_TRANSLATE_NOOP("FieldText", "auto")},
    Entry{"distributed.backend", QT_TRANSLATE_NOOP("FieldText", "Backend"),
          QT_TRANSLATE_NOOP("FieldText",
                            "Collective communication backend; auto uses NCCL on CUDA and Gloo "
                            "on the CPU.")},
    Entry{"distributed.norm", QT_TRANSLATE_NOOP("FieldText", "Normalization"),
          QT_TRANSLATE_NOOP("FieldText",
                            "bn: BatchNorm statistics per rank. syncbn: statistics over all "
                            "ranks. groupnorm: independent of the batch. frozen: running "
                            "statistics only, never updated.")},
    Entry{"distributed.precise_bn", QT_TRANSLATE_NOOP("FieldText", "PreciseBN batches"),
          QT_TRANSLATE_NOOP("FieldText",
                            "Batches used to recompute BatchNorm statistics before validation "
                            "(0 = off).")},
    Entry{"distributed.nnodes", QT_TRANSLATE_NOOP("FieldText", "Nodes"),
          QT_TRANSLATE_NOOP("FieldText", "Number of machines taking part in the run.")},
    Entry{"distributed.node_rank", QT_TRANSLATE_NOOP("FieldText", "Node rank"),
          QT_TRANSLATE_NOOP("FieldText", "This machine's index among the nodes, from 0.")},
    Entry{"distributed.master_addr", QT_TRANSLATE_NOOP("FieldText", "Master address"),
          QT_TRANSLATE_NOOP("FieldText", "Network address of node 0, where the ranks meet.")},
    Entry{"distributed.master_port", QT_TRANSLATE_NOOP("FieldText", "Master port"),
          QT_TRANSLATE_NOOP("FieldText", "TCP port on node 0 for the rendezvous.")},
    Entry{"distributed.timeout", QT_TRANSLATE_NOOP("FieldText", "Collective timeout"),
          QT_TRANSLATE_NOOP("FieldText", "Seconds a collective may wait before the run fails."),
          nullptr, QT_TRANSLATE_NOOP("FieldText", " s")},
};

const Entry* findEntry(const QString& path) {
  for (const Entry& entry : kEntries)
    if (path == QLatin1String(entry.path)) return &entry;
  return nullptr;
}

QString translated(const char* text) {
  return text ? QCoreApplication::translate(kContext, text) : QString();
}

}  // namespace

FieldText fieldText(const QString& path) {
  FieldText text;
  const QString keyLine = QCoreApplication::translate(kContext, "YAML key: %1").arg(path);
  if (const Entry* entry = findEntry(path)) {
    text.label = translated(entry->label);
    text.toolTip = translated(entry->toolTip) + QLatin1Char('\n') + keyLine;
    text.placeholder = translated(entry->placeholder);
    text.unit = translated(entry->unit);
    text.browse = entry->browse;
    text.fileFilter = translated(entry->fileFilter);
    return text;
  }
  text.label = path;
  const syncbn::FieldSpec* spec = syncbn::findField(toStdString(path));
  text.toolTip = (spec ? toQString(spec->help) + QLatin1Char('\n') : QString()) + keyLine;
  return text;
}

bool hasFieldText(const QString& path) {
  return findEntry(path) != nullptr;
}

}  // namespace studio
