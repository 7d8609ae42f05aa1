#include "widgets/distributed/devices_panel.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QLocale>
#include <QPushButton>
#include <QVBoxLayout>
#include <algorithm>
#include <cstdint>

#include "common/config_schema.h"
#include "common/memory_estimate.h"
#include "common/topology.h"
#include "stores/config_document.h"
#include "stores/model_info.h"
#include "stores/qt_text.h"

namespace studio {
namespace {

constexpr int kCudaRole = Qt::UserRole + 1;  // bool: a CUDA device (else the CPU)
constexpr int kIndexRole = Qt::UserRole + 2;

QString bytes(qint64 count) {
  return toQString(syncbn::formatBytes(static_cast<std::uint64_t>(std::max<qint64>(count, 0))));
}

}  // namespace

DevicesPanel::DevicesPanel(ConfigDocument* document, DeviceList* devices, ModelInfo* model,
                           QWidget* parent)
    : QGroupBox(tr("This machine"), parent), document_(document), devices_(devices), model_(model) {
  setObjectName(QStringLiteral("devicesPanel"));
  auto* column = new QVBoxLayout(this);
  note_ = new QLabel(this);
  note_->setObjectName(QStringLiteral("devicesNote"));
  note_->setWordWrap(true);
  list_ = new QListWidget(this);
  list_->setObjectName(QStringLiteral("deviceList"));
  list_->setToolTip(tr("Tick the devices to train on: one rank per GPU"));
  memory_ = new QLabel(this);
  memory_->setObjectName(QStringLiteral("memoryEstimate"));
  memory_->setWordWrap(true);
  memory_->setTextFormat(Qt::RichText);
  launch_ = new QPushButton(tr("Copy &Launch Command..."), this);
  launch_->setObjectName(QStringLiteral("launchElsewhereButton"));
  launch_->setToolTip(
      tr("This configuration as a torchrun command per node, a Slurm batch "
         "script or a Kubernetes PyTorchJob, with the configuration file "
         "written beside it"));
  auto* row = new QHBoxLayout;
  row->addStretch(1);
  row->addWidget(launch_);
  column->addWidget(note_);
  column->addWidget(list_);
  column->addWidget(memory_);
  column->addLayout(row);

  connect(launch_, &QPushButton::clicked, this, &DevicesPanel::launchRequested);
  connect(list_, &QListWidget::itemChanged, this, &DevicesPanel::onItemChanged);
  connect(devices_, &DeviceList::changed, this, &DevicesPanel::rebuildList);
  connect(document_, &ConfigDocument::configChanged, this, [this] {
    if (isVisible()) model_->request(document_->config());  // the estimate needs its size
    updateChecks();
    updateEstimate();
  });
  connect(model_, &ModelInfo::changed, this, &DevicesPanel::updateEstimate);
  rebuildList();
}

void DevicesPanel::showEvent(QShowEvent* event) {
  QGroupBox::showEvent(event);
  model_->request(document_->config());  // a no-op when the Model page asked already
}

void DevicesPanel::rebuildList() {
  updating_ = true;
  list_->clear();
  if (!devices_->isKnown()) {
    note_->setText(devices_->error().isEmpty()
                       ? tr("Asking the engine which devices this machine has...")
                       : tr("The devices are unknown: %1").arg(devices_->error()));
    updating_ = false;
    updateEstimate();
    return;
  }
  const int gpus = devices_->cudaDeviceCount();
  for (const DeviceInfo& d : devices_->devices()) {
    QString text;
    if (d.type == QLatin1String("cuda"))
      text = tr("GPU %1: %2, %3, compute capability %4")
                 .arg(d.index)
                 .arg(d.name, bytes(d.memoryBytes), d.capability);
    else
      text = tr("CPU: %1, %2 logical cores, %3").arg(d.name).arg(d.cores).arg(bytes(d.memoryBytes));
    auto* item = new QListWidgetItem(text, list_);
    item->setData(kCudaRole, d.type == QLatin1String("cuda"));
    item->setData(kIndexRole, d.index);
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
  }
  if (gpus == 0) {
    note_->setText(
        tr("<b>No CUDA device on this machine</b> (LibTorch %1): training runs on the CPU "
           "with Gloo, one process per CPU rank (set CPU ranks below). To train on GPUs, copy "
           "the launch command to a GPU machine.")
            .arg(devices_->torchVersion()));
  } else {
    // The CPU is offered too: a quick CPU run checks a setup without taking a GPU.
    auto* cpu = new QListWidgetItem(tr("CPU instead (Gloo, distributed.cpu_ranks ranks)"), list_);
    cpu->setData(kCudaRole, false);
    cpu->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
    note_->setText(tr("%n CUDA device(s), LibTorch %1, NCCL %2.", nullptr, gpus)
                       .arg(devices_->torchVersion(),
                            devices_->nccl() ? tr("available") : tr("not available")));
  }
  // As tall as its rows (one for a CPU, up to eight GPUs before it scrolls).
  const int rows = std::clamp(list_->count(), 1, 8);
  list_->setFixedHeight(rows * std::max(list_->sizeHintForRow(0), 18) + 2 * list_->frameWidth() +
                        4);
  updating_ = false;
  updateChecks();
  updateEstimate();
}

void DevicesPanel::updateChecks() {
  updating_ = true;
  const syncbn::Topology topology = document_->topology();
  for (int row = 0; row < list_->count(); ++row) {
    QListWidgetItem* item = list_->item(row);
    const bool cuda = item->data(kCudaRole).toBool();
    bool on = false;
    if (cuda) {
      const int index = item->data(kIndexRole).toInt();
      on = topology.cuda && std::find(topology.cudaDeviceIds.begin(), topology.cudaDeviceIds.end(),
                                      index) != topology.cudaDeviceIds.end();
    } else {
      on = !topology.cuda;
    }
    item->setCheckState(on ? Qt::Checked : Qt::Unchecked);
    // On a CPU-only machine the CPU is the only choice.
    if (!cuda && devices_->cudaDeviceCount() == 0) item->setFlags(Qt::ItemIsUserCheckable);
  }
  updating_ = false;
}

void DevicesPanel::onItemChanged(QListWidgetItem* item) {
  if (updating_) return;
  const syncbn::FieldSpec* device = syncbn::findField("distributed.device");
  if (!item->data(kCudaRole).toBool()) {
    // Ticking the CPU trains there; unticking it goes back to every GPU.
    document_->setField(*device, std::string(item->checkState() == Qt::Checked ? "cpu" : ""));
    return;
  }
  QStringList ids;
  int gpus = 0;
  for (int row = 0; row < list_->count(); ++row) {
    const QListWidgetItem* other = list_->item(row);
    if (!other->data(kCudaRole).toBool()) continue;
    ++gpus;
    if (other->checkState() == Qt::Checked) ids << QString::number(other->data(kIndexRole).toInt());
  }
  // All of them is the default ("" = every visible device), which travels to other machines.
  const QString value = ids.size() == gpus ? QString()
                        : ids.isEmpty()    ? QStringLiteral("cpu")
                                           : ids.join(QLatin1Char(','));
  document_->setField(*device, toStdString(value));
}

void DevicesPanel::updateEstimate() {
  if (!model_->hasSummary()) {
    memory_->setText(model_->hasError()
                         ? tr("Memory estimate: the model has an error (Model page).")
                         : tr("Memory estimate: waiting for the model's size..."));
    return;
  }
  const syncbn::Config& config = document_->config();
  const syncbn::Topology topology = document_->topology();
  if (topology.perRankBatch <= 0) {
    memory_->setText(tr("Memory estimate: the batch does not divide among the ranks."));
    return;
  }
  syncbn::MemoryEstimate estimate;
  try {
    estimate = syncbn::estimateTrainingMemory(
        {.parameters = model_->summary().parameters,
         .activationElementsPerImage = model_->summary().activationElements,
         .perRankBatch = topology.perRankBatch,
         .amp = config.train.amp && topology.cuda,
         .optimizer = config.train.optimizer,
         .worldSize = topology.worldSize});
  } catch (const std::exception& e) {
    memory_->setText(tr("Memory estimate: %1").arg(toQString(e.what())));
    return;
  }
  if (!topology.cuda) {  // no CUDA context or cuDNN workspace on the CPU
    estimate.total -= estimate.workspace;
    estimate.workspace = 0;
  }
  QString verdict;
  if (topology.cuda && devices_->isKnown()) {
    qint64 smallest = 0;
    QString name;
    for (const DeviceInfo& d : devices_->devices()) {
      if (d.type != QLatin1String("cuda")) continue;
      if (std::find(topology.cudaDeviceIds.begin(), topology.cudaDeviceIds.end(), d.index) ==
          topology.cudaDeviceIds.end())
        continue;
      if (smallest == 0 || d.memoryBytes < smallest) {
        smallest = d.memoryBytes;
        name = tr("GPU %1").arg(d.index);
      }
    }
    if (smallest > 0) {
      const bool fits = static_cast<qint64>(estimate.total) <= smallest * 9 / 10;
      verdict = fits ? tr(" Fits in %1's %2.").arg(name, bytes(smallest))
                     : tr(" <b>More than %1's %2</b>: lower the batch or imgsz, or turn on "
                          "AMP.")
                           .arg(name, bytes(smallest));
    }
  }
  const QString where = topology.cuda ? tr("per GPU") : tr("per CPU rank");
  const QString workspace =
      topology.cuda
          ? tr(", CUDA workspace %1").arg(toQString(syncbn::formatBytes(estimate.workspace)))
          : QString();
  // The decoded-image cache lives in the host's RAM whatever the device, filled as images are
  // first used, up to its budget (which the engine may lower to fit the free memory).
  const QString imageCache =
      config.data.cache_mb > 0
          ? tr(" The host's RAM also keeps up to %1 of decoded images per rank (data.cache_mb).")
                .arg(toQString(
                    syncbn::formatBytes(static_cast<std::uint64_t>(config.data.cache_mb) << 20)))
          : QString();
  memory_->setText(
      tr("<b>Memory %1: about %2</b> for %3 image(s) of %4 px (activations %5; weights, "
         "gradients, optimizer and EMA %6%7).%8")
          .arg(where, toQString(syncbn::formatBytes(estimate.total)))
          .arg(topology.perRankBatch)
          .arg(config.data.imgsz)
          .arg(toQString(syncbn::formatBytes(estimate.activations)),
               toQString(syncbn::formatBytes(estimate.weights + estimate.gradients +
                                             estimate.optimizerState + estimate.ema)),
               workspace, verdict) +
      imageCache);
  memory_->setToolTip(toQString(estimate.method));
}

QString DevicesPanel::memoryText() const {
  return memory_->text();
}

QString DevicesPanel::noteText() const {
  return note_->text();
}

}  // namespace studio
