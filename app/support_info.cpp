#include "app/support_info.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QSysInfo>

#include "common/version.h"
#include "stores/log_model.h"
#include "stores/model_info.h"

namespace studio {
namespace {

QString tr(const char* text) {
  return QCoreApplication::translate("SupportInfo", text);
}

QString acceleratorOf(const DeviceList& devices) {
  if (!devices.isKnown()) return {};
  if (devices.cudaDeviceCount() == 0) return tr("no CUDA device (CPU ranks, Gloo)");
  QStringList names;
  for (const DeviceInfo& d : devices.devices())
    if (d.type == QLatin1String("cuda")) names << d.name;
  return tr("CUDA: %1%2")
      .arg(names.join(QLatin1String(", ")), devices.nccl() ? QStringLiteral(", NCCL") : QString());
}

}  // namespace

SupportInfo gatherSupportInfo(const QString& engine, const DeviceList* devices, const LogModel* log,
                              const QString& configuration, int maxLogLines) {
  SupportInfo info;
  info.studioVersion = QString::fromLatin1(syncbn::kVersion);
  info.qtBuilt = QStringLiteral(QT_VERSION_STR);
  info.qtRunning = QString::fromLatin1(qVersion());
  info.system = QStringLiteral("%1, %2, kernel %3")
                    .arg(QSysInfo::prettyProductName(), QSysInfo::currentCpuArchitecture(),
                         QSysInfo::kernelVersion());
  info.engine = engine;
  if (devices && devices->isKnown()) {
    info.torch = devices->torchVersion();
    info.accelerator = acceleratorOf(*devices);
  }
  info.configuration = configuration;
  if (log) {
    for (int row = std::max(0, log->rowCount() - maxLogLines); row < log->rowCount(); ++row)
      info.logLines << LogModel::formatForCopy(log->line(row));
  }
  return info;
}

QString aboutText(const SupportInfo& info) {
  const QString unknown = tr("unknown (the engine has not answered)");
  return tr("<h3>SyncBN Studio %1</h3>"
            "<p>Configure and monitor multi-GPU YOLO training with synchronized BatchNorm.</p>"
            "<table>"
            "<tr><td>Engine:</td><td>%2</td></tr>"
            "<tr><td>LibTorch:</td><td>%3</td></tr>"
            "<tr><td>Accelerator:</td><td>%4</td></tr>"
            "<tr><td>Qt:</td><td>built with %5, running on %6</td></tr>"
            "<tr><td>System:</td><td>%7</td></tr>"
            "</table>")
      .arg(info.studioVersion.toHtmlEscaped(),
           info.engine.isEmpty() ? tr("not found (File > Preferences)")
                                 : QDir::toNativeSeparators(info.engine).toHtmlEscaped(),
           info.torch.isEmpty() ? unknown : info.torch.toHtmlEscaped(),
           info.accelerator.isEmpty() ? unknown : info.accelerator.toHtmlEscaped(), info.qtBuilt,
           info.qtRunning, info.system.toHtmlEscaped());
}

QString problemReport(const SupportInfo& info) {
  QStringList lines{
      QStringLiteral("SyncBN Studio %1").arg(info.studioVersion),
      QStringLiteral("engine: %1")
          .arg(info.engine.isEmpty() ? QStringLiteral("not found") : info.engine),
      QStringLiteral("LibTorch: %1")
          .arg(info.torch.isEmpty() ? QStringLiteral("unknown") : info.torch),
      QStringLiteral("accelerator: %1")
          .arg(info.accelerator.isEmpty() ? QStringLiteral("unknown") : info.accelerator),
      QStringLiteral("Qt: built %1, running %2").arg(info.qtBuilt, info.qtRunning),
      QStringLiteral("system: %1").arg(info.system),
      QStringLiteral("configuration: %1")
          .arg(info.configuration.isEmpty() ? QStringLiteral("(unsaved)") : info.configuration),
  };
  if (!info.logLines.isEmpty()) {
    lines << QString()
          << QStringLiteral("last %1 log line(s) of the current run:").arg(info.logLines.size());
    lines << info.logLines;
  }
  return lines.join(QLatin1Char('\n')) + QLatin1Char('\n');
}

QString documentationFile(const QString& applicationDir) {
  const QDir bin(applicationDir);
  const QStringList candidates{
      bin.absoluteFilePath(QStringLiteral("../share/doc/syncbn-studio/README.md")),
#ifdef SYNCBN_SOURCE_DIR
      QStringLiteral(SYNCBN_SOURCE_DIR "/README.md"),
#endif
  };
  for (const QString& file : candidates)
    if (QFileInfo(file).isFile()) return QFileInfo(file).canonicalFilePath();
  return {};
}

}  // namespace studio
