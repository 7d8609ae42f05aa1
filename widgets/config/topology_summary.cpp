#include "widgets/config/topology_summary.h"

#include <QGridLayout>
#include <QLabel>

#include "stores/config_document.h"
#include "stores/qt_text.h"

namespace studio {
namespace {

QString joinIds(const std::vector<int>& ids) {
  QStringList out;
  for (const int id : ids)
    out << QString::number(id);
  return out.join(QStringLiteral(", "));
}

}  // namespace

TopologySummary::TopologySummary(ConfigDocument* document, QWidget* parent)
    : QGroupBox(tr("Resolved topology"), parent),
      document_(document),
      grid_(new QGridLayout(this)) {
  setObjectName(QStringLiteral("topologySummary"));
  grid_->setColumnStretch(1, 1);
  grid_->setHorizontalSpacing(16);
  devices_ = addRow(QStringLiteral("devices"), tr("Devices"),
                    tr("Where the ranks run. The editor cannot see the training machine's GPUs, "
                       "so an empty device field is previewed as the CPU."));
  worldSize_ = addRow(QStringLiteral("worldSize"), tr("World size"),
                      tr("Processes taking part in the run: ranks per node × nodes."));
  perRankBatch_ = addRow(QStringLiteral("perRankBatch"), tr("Per-rank batch"),
                         tr("Images each rank processes per iteration: the global batch divided "
                            "by the world size. With norm=bn this is all BatchNorm sees."));
  bnBatch_ = addRow(QStringLiteral("bnBatch"), tr("BatchNorm batch"),
                    tr("Images each BatchNorm statistic is computed over."));
  accumulate_ = addRow(QStringLiteral("accumulate"), tr("Gradient accumulation"),
                       tr("Iterations whose gradients are summed before each optimizer step, "
                          "to reach the nominal batch (nbs)."));
  backend_ = addRow(QStringLiteral("backend"), tr("Backend"),
                    tr("The collective communication library the ranks use."));

  // The number users come here for: make it stand out.
  QFont bold = perRankBatch_->font();
  bold.setBold(true);
  perRankBatch_->setFont(bold);

  refresh();
  connect(document_, &ConfigDocument::configChanged, this, &TopologySummary::refresh);
}

QLabel* TopologySummary::addRow(const QString& name, const QString& label, const QString& toolTip) {
  const int row = grid_->rowCount();
  auto* caption = new QLabel(label, this);
  auto* value = new QLabel(this);
  value->setObjectName(QStringLiteral("topology.") + name);
  value->setTextInteractionFlags(Qt::TextSelectableByMouse);
  value->setWordWrap(true);
  caption->setToolTip(toolTip);
  value->setToolTip(toolTip);
  caption->setBuddy(value);
  grid_->addWidget(caption, row, 0, Qt::AlignLeft | Qt::AlignTop);
  grid_->addWidget(value, row, 1, Qt::AlignTop);
  return value;
}

void TopologySummary::refresh() {
  const syncbn::Config& config = document_->config();
  const syncbn::Topology t = document_->topology();
  const int nodes = std::max(config.distributed.nnodes, 1);

  if (t.cuda) {
    devices_->setText(tr("CUDA devices %1").arg(joinIds(t.cudaDeviceIds)));
  } else if (config.distributed.device.empty()) {
    devices_->setText(
        tr("auto: every CUDA device of the training machine, else the CPU "
           "(previewed here as the CPU)"));
  } else {
    devices_->setText(tr("CPU"));
  }

  worldSize_->setText(tr("%n rank(s)", nullptr, t.worldSize) + QStringLiteral(" = ") +
                      tr("%n per node", nullptr, t.ranksPerNode) + QStringLiteral(" × ") +
                      tr("%n node(s)", nullptr, nodes));

  if (t.perRankBatch > 0) {
    perRankBatch_->setText(tr("%n image(s)", nullptr, t.perRankBatch));
  } else {
    perRankBatch_->setText(
        tr("none: a global batch of %1 does not divide across %n rank(s)", nullptr, t.worldSize)
            .arg(config.train.batch));
  }

  switch (config.distributed.norm) {
    case syncbn::NormKind::BatchNorm:
    case syncbn::NormKind::SyncBatchNorm:
      if (t.bnBatch <= 0) {
        bnBatch_->setText(tr("none: the global batch does not divide evenly"));
      } else if (config.distributed.norm == syncbn::NormKind::BatchNorm) {
        bnBatch_->setText(tr("%n image(s), within each rank (bn)", nullptr, t.bnBatch));
      } else {
        bnBatch_->setText(
            tr("%n image(s), synchronized over all ranks (syncbn)", nullptr, t.bnBatch));
      }
      break;
    case syncbn::NormKind::GroupNorm:
      bnBatch_->setText(tr("not batch-based: GroupNorm normalizes each image on its own"));
      break;
    case syncbn::NormKind::FrozenBatchNorm:
      bnBatch_->setText(tr("none: frozen statistics are never updated"));
      break;
  }

  if (t.accumulate <= 1) {
    accumulate_->setText(tr("none: the optimizer steps every iteration"));
  } else {
    accumulate_->setText(tr("%n iteration(s) per optimizer step", nullptr, t.accumulate) +
                         QStringLiteral(" ") +
                         tr("(%1 images per step; nominal batch %2)")
                             .arg(t.accumulate * config.train.batch)
                             .arg(config.train.nbs));
  }

  const QString backend =
      t.backend == syncbn::Backend::Nccl ? QStringLiteral("NCCL") : QStringLiteral("Gloo");
  backend_->setText(config.distributed.backend == syncbn::Backend::Auto
                        ? tr("%1 (chosen automatically)").arg(backend)
                        : backend);
}

}  // namespace studio
