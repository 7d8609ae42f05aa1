// The Model page below its field: the YOLOv8 scale as one click (n to x), a custom model YAML
// from a file dialog, and what the engine's `model-info` says of the result: its totals at the
// configured imgsz and classes, the layer table, or the model file's error at its line.
#pragma once

#include <QWidget>

class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTableView;

namespace studio {

class ConfigDocument;
class ModelInfo;
class ModelLayersModel;

class ModelPanel : public QWidget {
  Q_OBJECT

 public:
  ModelPanel(ConfigDocument* document, ModelInfo* info, QWidget* parent = nullptr);

  QString summaryText() const;
  QString errorText() const;
  QString weightsText() const;  // the starting weights and the transfer; "" when from scratch
  QTableView* layerTable() const { return table_; }

 protected:
  void showEvent(QShowEvent* event) override;

 private:
  void update();
  void chooseModelFile();
  void chooseWeightsFile();
  void setModel(const QString& model);

  ConfigDocument* document_;
  ModelInfo* info_;
  ModelLayersModel* layers_;
  QList<QPushButton*> scaleButtons_;
  QLabel* summary_ = nullptr;
  QLabel* weights_ = nullptr;  // where the starting weights came from, what transferred
  QLabel* error_ = nullptr;
  QPlainTextEdit* source_ = nullptr;  // the custom YAML with the error's line marked
  QTableView* table_ = nullptr;
};

}  // namespace studio
