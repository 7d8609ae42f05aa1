#include "stores/model_info.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonObject>
#include <QLocale>
#include <QTemporaryFile>

#include "common/config_yaml.h"
#include "stores/engine_task.h"

namespace studio {
namespace {

constexpr int kDebounceMs = 400;
constexpr int kKnownModelSchema = 1;  // core/engine/commands.cpp kModelInfoSchema

}  // namespace

ModelInfo::ModelInfo(QObject* parent)
    : QObject(parent), task_(new EngineTask(this)), workingDirectory_(QDir::currentPath()) {
  debounce_.setSingleShot(true);
  debounce_.setInterval(kDebounceMs);
  connect(&debounce_, &QTimer::timeout, this, &ModelInfo::start);
  connect(task_, &EngineTask::finished, this, &ModelInfo::onFinished);
}

ModelInfo::~ModelInfo() = default;

bool ModelInfo::isRunning() const {
  return task_->isRunning();
}

namespace {

// What model-info's answer depends on; other edits (epochs, lr) leave it as it is.
bool sameModel(const syncbn::Config& a, const syncbn::Config& b) {
  return a.model == b.model && a.data == b.data && a.distributed.norm == b.distributed.norm;
}

}  // namespace

void ModelInfo::request(const syncbn::Config& config) {
  if (requested_ && sameModel(config, lastRequested_)) return;
  requested_ = true;
  lastRequested_ = config;
  pending_ = config;
  hasPending_ = true;
  debounce_.start();
}

void ModelInfo::refreshNow() {
  if (!requested_) return;
  pending_ = lastRequested_;
  hasPending_ = true;
  debounce_.stop();
  start();
}

void ModelInfo::start() {
  if (!hasPending_ || engine_.isEmpty()) return;
  if (task_->isRunning()) return;  // onFinished starts the pending request
  // model-info reads a configuration file; the one being edited may be unsaved.
  configFile_ = std::make_unique<QTemporaryFile>(QDir::tempPath() +
                                                 QLatin1String("/syncbn-model-XXXXXX.yaml"));
  if (!configFile_->open()) {
    error_ = {QString(), 0, QString(),
              tr("Cannot write a temporary file: %1").arg(configFile_->errorString())};
    hasError_ = true;
    emit changed();
    return;
  }
  configFile_->write(QByteArray::fromStdString(syncbn::toYaml(pending_)));
  configFile_->flush();
  hasPending_ = false;
  QString error;
  if (!task_->start(
          engine_,
          {QStringLiteral("model-info"), configFile_->fileName(), QStringLiteral("--json")},
          workingDirectory_, &error)) {
    error_ = {QString(), 0, QString(), error};
    hasError_ = true;
    emit changed();
    return;
  }
  emit runningChanged(true);
}

void ModelInfo::onFinished(int exitCode, const QString& message) {
  emit runningChanged(false);
  const QJsonObject object = task_->jsonReport();
  const QString configName = configFile_ ? configFile_->fileName() : QString();
  configFile_.reset();
  if (object.value(QLatin1String("schema")).toInt() != kKnownModelSchema) {
    error_ = {QString(), 0, QString(),
              exitCode == 0 ? tr("The engine's model report has an unknown schema.") : message};
    hasError_ = true;
  } else if (object.contains(QLatin1String("error"))) {
    const QJsonObject e = object.value(QLatin1String("error")).toObject();
    QString file = e.value(QLatin1String("file")).toString();
    if (file == configName) file.clear();  // the temporary copy: the field is what matters
    error_ = {file, e.value(QLatin1String("line")).toInt(),
              e.value(QLatin1String("field")).toString(),
              e.value(QLatin1String("message")).toString()};
    hasError_ = true;
  } else {
    ModelSummaryInfo s;
    s.model = object.value(QLatin1String("model")).toString();
    s.source = object.value(QLatin1String("source")).toString();
    s.scale = object.value(QLatin1String("scale")).toString();
    s.nc = object.value(QLatin1String("nc")).toInt();
    s.imgsz = object.value(QLatin1String("imgsz")).toInt();
    s.summary = object.value(QLatin1String("summary")).toString();
    s.name = s.summary.section(QStringLiteral(" summary:"), 0, 0);
    s.modules = object.value(QLatin1String("modules")).toInt();
    s.parameters = object.value(QLatin1String("parameters")).toInteger();
    s.gradients = object.value(QLatin1String("gradients")).toInteger();
    s.gflops = object.value(QLatin1String("gflops")).toDouble();
    s.activationElements = object.value(QLatin1String("activation_elements")).toInteger();
    for (const QJsonValue& v : object.value(QLatin1String("layers")).toArray()) {
      const QJsonObject l = v.toObject();
      s.layers.push_back({l.value(QLatin1String("index")).toInt(),
                          l.value(QLatin1String("from")).toString(),
                          l.value(QLatin1String("repeats")).toInt(),
                          l.value(QLatin1String("parameters")).toInteger(),
                          l.value(QLatin1String("module")).toString(),
                          l.value(QLatin1String("arguments")).toString(),
                          l.value(QLatin1String("gflops")).toDouble()});
    }
    if (const QJsonObject w = object.value(QLatin1String("weights")).toObject(); !w.isEmpty()) {
      s.weights.present = true;
      s.weights.file = w.value(QLatin1String("file")).toString();
      s.weights.producer = w.value(QLatin1String("producer")).toString();
      s.weights.taken = w.value(QLatin1String("taken")).toString();
      s.weights.classes = w.value(QLatin1String("classes")).toInt();
      s.weights.imgsz = w.value(QLatin1String("imgsz")).toInt();
      s.weights.transferred = w.value(QLatin1String("transferred")).toInt();
      s.weights.total = w.value(QLatin1String("total")).toInt();
      s.weights.leftOut = w.value(QLatin1String("left_out")).toString();
    }
    summary_ = std::move(s);
    hasSummary_ = true;
    hasError_ = false;
  }
  emit changed();
  if (hasPending_) start();
}

// ---- layers ----------------------------------------------------------------------------------

ModelLayersModel::ModelLayersModel(const ModelInfo* info, QObject* parent)
    : QAbstractTableModel(parent), info_(info) {
  connect(info_, &ModelInfo::changed, this, [this] {
    beginResetModel();
    endResetModel();
  });
}

int ModelLayersModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() || !info_->hasSummary()
             ? 0
             : static_cast<int>(info_->summary().layers.size());
}

int ModelLayersModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

QVariant ModelLayersModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount()) return {};
  const ModelLayer& layer = info_->summary().layers[index.row()];
  if (role == Qt::TextAlignmentRole)
    return index.column() == Module || index.column() == Arguments || index.column() == From
               ? int(Qt::AlignLeft | Qt::AlignVCenter)
               : int(Qt::AlignRight | Qt::AlignVCenter);
  if (role != Qt::DisplayRole) return {};
  switch (index.column()) {
    case Index:
      return layer.index;
    case From:
      return layer.from;
    case Repeats:
      return layer.repeats;
    case Parameters:
      return QLocale().toString(layer.parameters);
    case Gflops:
      return QString::number(layer.gflops, 'f', 2);
    case Module:
      return layer.module;
    case Arguments:
      return layer.arguments;
    default:
      return {};
  }
}

QVariant ModelLayersModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal) return {};
  if (role == Qt::ToolTipRole) {
    switch (section) {
      case From:
        return tr("The layers this one takes its input from (-1: the previous one)");
      case Repeats:
        return tr("Repeats after depth scaling");
      case Gflops:
        return tr("GFLOPs of this layer's convolutions for one image at imgsz");
      default:
        return {};
    }
  }
  if (role != Qt::DisplayRole) return {};
  switch (section) {
    case Index:
      return tr("#");
    case From:
      return tr("From");
    case Repeats:
      return tr("n");
    case Parameters:
      return tr("Parameters");
    case Gflops:
      return tr("GFLOPs");
    case Module:
      return tr("Module");
    case Arguments:
      return tr("Arguments");
    default:
      return {};
  }
}

// ---- devices --------------------------------------------------------------------------------

DeviceList::DeviceList(QObject* parent) : QObject(parent), task_(new EngineTask(this)) {
  connect(task_, &EngineTask::finished, this, [this](int exitCode, const QString& message) {
    const QJsonObject object = task_->jsonReport();
    if (exitCode != 0 || !object.value(QLatin1String("devices")).isArray()) {
      error_ = message.isEmpty() ? tr("The engine listed no devices.") : message;
      known_ = false;
      emit changed();
      return;
    }
    error_.clear();
    cuda_ = object.value(QLatin1String("cuda")).toBool();
    nccl_ = object.value(QLatin1String("nccl")).toBool();
    torchVersion_ = object.value(QLatin1String("torch_version")).toString();
    devices_.clear();
    for (const QJsonValue& v : object.value(QLatin1String("devices")).toArray()) {
      const QJsonObject d = v.toObject();
      devices_.push_back({d.value(QLatin1String("type")).toString(),
                          d.value(QLatin1String("index")).toInt(),
                          d.value(QLatin1String("name")).toString(),
                          d.value(QLatin1String("memory_bytes")).toInteger(),
                          d.value(QLatin1String("capability")).toString(),
                          d.value(QLatin1String("cores")).toInt()});
    }
    known_ = true;
    emit changed();
  });
}

bool DeviceList::isRunning() const {
  return task_->isRunning();
}

void DeviceList::refresh(const QString& engine, const QString& workingDirectory) {
  QString error;
  if (!task_->start(engine, {QStringLiteral("devices"), QStringLiteral("--json")}, workingDirectory,
                    &error)) {
    error_ = error;
    emit changed();
  }
}

int DeviceList::cudaDeviceCount() const {
  int count = 0;
  for (const DeviceInfo& d : devices_)
    count += d.type == QLatin1String("cuda") ? 1 : 0;
  return count;
}

}  // namespace studio
