// The Model page's store: `syncbn-engine model-info --json` for the configuration being edited
// (its model, scale, dataset classes, norm and imgsz), asked by the pages that show it while they
// are visible, and again shortly after any of those settings changes.
// Holds the layer table and totals, or the model file's error with its line. The Distributed
// page's memory estimate reads the parameter and activation counts from here.
#pragma once

#include <QAbstractTableModel>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QTimer>
#include <QVector>
#include <memory>

#include "common/config.h"

class QTemporaryFile;

namespace studio {

class EngineTask;

struct ModelLayer {
  int index = 0;
  QString from;
  int repeats = 1;
  qint64 parameters = 0;
  QString module;
  QString arguments;
  double gflops = 0;
};

// Starting weights (model.model names a .pt): where they came from and what transferred.
struct StartingWeightsInfo {
  bool present = false;
  QString file;
  QString producer;  // "Ultralytics 8.3.186"
  QString taken;     // "ema", "model", "EMA"
  int classes = 0;   // the weights' own
  int imgsz = 0;     // trained at; 0 when unknown
  int transferred = 0;
  int total = 0;
  QString leftOut;  // "model.22.cv3 (36 items: other shapes)"; empty when everything transferred
};

struct ModelSummaryInfo {
  QString model;
  QString source;
  QString scale;
  int nc = 0;
  int imgsz = 0;
  QString summary;  // the engine's English line, "YOLOv8n summary: 224 layers, ..."
  QString name;     // the model's name in that line, "YOLOv8n"
  int modules = 0;  // the line's "layers": modules, as Ultralytics counts them
  qint64 parameters = 0;
  qint64 gradients = 0;  // trainable parameters
  double gflops = 0;
  qint64 activationElements = 0;  // per image, what autograd keeps for backward (estimate)
  QVector<ModelLayer> layers;
  StartingWeightsInfo weights;
};

struct ModelError {
  QString file;
  int line = 0;  // 1-based; 0 when unknown
  QString field;
  QString message;
};

class ModelInfo : public QObject {
  Q_OBJECT

 public:
  explicit ModelInfo(QObject* parent = nullptr);
  ~ModelInfo() override;

  void setEngine(const QString& engine) { engine_ = engine; }
  void setWorkingDirectory(const QString& folder) { workingDirectory_ = folder; }
  // Asks for the summary of `config` after a short pause (the user may be typing); a newer
  // request replaces one not yet started, and one asked while the engine runs follows it.
  void request(const syncbn::Config& config);
  void refreshNow();  // the last request again, at once (the model file changed on disk)

  bool hasSummary() const { return hasSummary_; }
  const ModelSummaryInfo& summary() const { return summary_; }
  bool hasError() const { return hasError_; }
  const ModelError& error() const { return error_; }
  bool isRunning() const;

 signals:
  void changed();  // summary or error
  void runningChanged(bool running);

 private:
  void start();
  void onFinished(int exitCode, const QString& message);

  EngineTask* task_;
  QTimer debounce_;
  QString engine_;
  QString workingDirectory_;
  syncbn::Config pending_;
  bool hasPending_ = false;
  syncbn::Config lastRequested_;
  bool requested_ = false;
  std::unique_ptr<QTemporaryFile> configFile_;
  ModelSummaryInfo summary_;
  ModelError error_;
  bool hasSummary_ = false;
  bool hasError_ = false;
};

// The layer table of a ModelInfo's summary: index, from, n, params, GFLOPs, module, arguments.
class ModelLayersModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { Index, From, Repeats, Parameters, Gflops, Module, Arguments, ColumnCount };
  explicit ModelLayersModel(const ModelInfo* info, QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

 private:
  const ModelInfo* info_;
};

// `syncbn-engine devices --json`, asked once: the CUDA devices, or the CPU.
struct DeviceInfo {
  QString type;  // "cuda" or "cpu"
  int index = 0;
  QString name;
  qint64 memoryBytes = 0;
  QString capability;  // CUDA only
  int cores = 0;       // CPU only
};

class DeviceList : public QObject {
  Q_OBJECT

 public:
  explicit DeviceList(QObject* parent = nullptr);

  void refresh(const QString& engine, const QString& workingDirectory);
  bool isKnown() const { return known_; }
  bool isRunning() const;
  QString error() const { return error_; }
  bool cuda() const { return cuda_; }
  QString torchVersion() const { return torchVersion_; }
  bool nccl() const { return nccl_; }
  const QVector<DeviceInfo>& devices() const { return devices_; }
  int cudaDeviceCount() const;

 signals:
  void changed();

 private:
  EngineTask* task_;
  bool known_ = false;
  bool cuda_ = false;
  bool nccl_ = false;
  QString torchVersion_;
  QString error_;
  QVector<DeviceInfo> devices_;
};

}  // namespace studio
