// The Distributed page's machine view: the devices the engine sees (`devices --json`) as a
// checklist that writes distributed.device, the memory one rank will need beside what each
// chosen GPU has (common/memory_estimate.h, from the model's size and the per-rank batch), and
// "Copy launch command" for taking the same run to torchrun, Slurm or Kubernetes.
#pragma once

#include <QGroupBox>

class QLabel;
class QListWidget;
class QListWidgetItem;
class QPushButton;

namespace studio {

class ConfigDocument;
class DeviceList;
class ModelInfo;

class DevicesPanel : public QGroupBox {
  Q_OBJECT

 public:
  DevicesPanel(ConfigDocument* document, DeviceList* devices, ModelInfo* model,
               QWidget* parent = nullptr);

  QListWidget* deviceList() const { return list_; }
  QString memoryText() const;
  QString noteText() const;

 signals:
  void launchRequested();  // the shell opens the Launch Elsewhere dialog

 protected:
  void showEvent(QShowEvent* event) override;

 private:
  void rebuildList();
  void updateChecks();
  void onItemChanged(QListWidgetItem* item);
  void updateEstimate();

  ConfigDocument* document_;
  DeviceList* devices_;
  ModelInfo* model_;
  QLabel* note_;
  QListWidget* list_;
  QLabel* memory_;
  QPushButton* launch_;
  bool updating_ = false;
};

}  // namespace studio
