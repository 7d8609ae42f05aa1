// A read-only box on the Distributed page: what the configuration resolves to (ranks, the batch
// each rank and each BatchNorm statistic sees, gradient accumulation, backend), kept current as
// the user edits.
#pragma once

#include <QGroupBox>

class QGridLayout;
class QLabel;

namespace studio {

class ConfigDocument;

class TopologySummary : public QGroupBox {
  Q_OBJECT

 public:
  explicit TopologySummary(ConfigDocument* document, QWidget* parent = nullptr);

 private:
  // Each value label's objectName is "topology.<name>", so tests and accessibility tools find it.
  QLabel* addRow(const QString& name, const QString& label, const QString& toolTip);
  void refresh();

  ConfigDocument* document_;
  QGridLayout* grid_;
  QLabel* devices_;
  QLabel* worldSize_;
  QLabel* perRankBatch_;
  QLabel* bnBatch_;
  QLabel* accumulate_;
  QLabel* backend_;
};

}  // namespace studio
