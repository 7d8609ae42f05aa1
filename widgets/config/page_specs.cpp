#include "widgets/config/page_specs.h"

#include <QCoreApplication>

namespace studio {
namespace {

// QT_TRANSLATE_NOOP marks each string for lupdate under the "ConfigPages" context.
QString text(const char* source) {
  return QCoreApplication::translate("ConfigPages", source);
}

}  // namespace

std::vector<PageSpec> configPageSpecs() {
  return {
      {QStringLiteral("dataset"),
       text(QT_TRANSLATE_NOOP("ConfigPages", "Dataset")),
       text(QT_TRANSLATE_NOOP(
           "ConfigPages",
           "The images to train and validate on, and the size they are resized to.")),
       QStyle::SP_DirIcon,
       {{text(QT_TRANSLATE_NOOP("ConfigPages", "Data")),
         {"data.data", "data.imgsz", "data.max_image_pixels", "data.cache_mb"}}}},
      {QStringLiteral("model"),
       text(QT_TRANSLATE_NOOP("ConfigPages", "Model")),
       text(QT_TRANSLATE_NOOP("ConfigPages",
                              "The YOLOv8 detector to train: from scratch, or fine-tuned from "
                              "pretrained weights.")),
       QStyle::SP_FileDialogContentsView,
       {{text(QT_TRANSLATE_NOOP("ConfigPages", "Architecture")), {"model.model"}},
        {text(QT_TRANSLATE_NOOP("ConfigPages", "Fine-tuning")), {"train.freeze"}}}},
      {QStringLiteral("training"),
       text(QT_TRANSLATE_NOOP("ConfigPages", "Training")),
       text(QT_TRANSLATE_NOOP("ConfigPages",
                              "Schedule, optimizer, augmentation and where the run's results go.")),
       QStyle::SP_FileDialogDetailedView,
       {{text(QT_TRANSLATE_NOOP("ConfigPages", "Schedule")),
         {"train.epochs", "train.batch", "train.patience", "train.close_mosaic", "train.seed",
          "train.deterministic", "train.workers", "train.amp"}},
        {text(QT_TRANSLATE_NOOP("ConfigPages", "Optimizer")),
         {"train.optimizer", "train.lr0", "train.lrf", "train.cos_lr", "train.momentum",
          "train.weight_decay", "train.nbs", "train.warmup_epochs", "train.warmup_momentum",
          "train.warmup_bias_lr"}},
        {text(QT_TRANSLATE_NOOP("ConfigPages", "Augmentation")),
         {"train.hsv_h", "train.hsv_s", "train.hsv_v", "train.degrees", "train.translate",
          "train.scale", "train.shear", "train.fliplr", "train.mosaic", "train.augment"}},
        {text(QT_TRANSLATE_NOOP("ConfigPages", "Output")),
         {"output.project", "output.name", "output.exist_ok", "output.checkpoint_interval",
          "output.resume", "output.tensorboard", "output.best_fp16"}}}},
      {QStringLiteral("distributed"),
       text(QT_TRANSLATE_NOOP("ConfigPages", "Distributed")),
       text(QT_TRANSLATE_NOOP(
           "ConfigPages",
           "How many processes train together, and how BatchNorm shares statistics between "
           "them.")),
       QStyle::SP_DriveNetIcon,
       {{text(QT_TRANSLATE_NOOP("ConfigPages", "Ranks")),
         {"distributed.device", "distributed.cpu_ranks", "distributed.cpu_threads",
          "distributed.nnodes", "distributed.node_rank"}},
        {text(QT_TRANSLATE_NOOP("ConfigPages", "Normalization")),
         {"distributed.norm", "distributed.precise_bn"}},
        {text(QT_TRANSLATE_NOOP("ConfigPages", "Communication")),
         {"distributed.backend", "distributed.master_addr", "distributed.master_port",
          "distributed.timeout"}}},
       true},
  };
}

}  // namespace studio
