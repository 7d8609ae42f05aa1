// What Help says about this installation: the versions behind the About box, where the
// documentation is, and the text "Report a Problem" puts on the clipboard (versions, system,
// devices, the configuration's file and the current run's last log lines), so that a bug report
// carries what a developer asks for first.
#pragma once

#include <QString>
#include <QStringList>

namespace studio {

class DeviceList;
class LogModel;

struct SupportInfo {
  QString studioVersion;
  QString qtBuilt, qtRunning;
  QString system;       // "Debian GNU/Linux 12 (bookworm), x86_64, kernel 6.1"
  QString engine;       // its path; empty when not found
  QString torch;        // LibTorch version as the engine reports it; empty when unknown
  QString accelerator;  // "CUDA: 2 x NVIDIA H200, NCCL" or "no CUDA device"; empty when unknown
  QString configuration;
  QStringList logLines;  // the current run's last lines, oldest first
};

// `devices` and `log` may be null; `engine` is where the studio would start it.
SupportInfo gatherSupportInfo(const QString& engine, const DeviceList* devices, const LogModel* log,
                              const QString& configuration, int maxLogLines = 40);

// The About box's body (rich text).
QString aboutText(const SupportInfo& info);
// Plain text for a bug report.
QString problemReport(const SupportInfo& info);

// README.md of the installed package (share/doc/syncbn-studio beside bin/), else of the source
// tree the program was built from; empty when neither is there.
QString documentationFile(const QString& applicationDir);

}  // namespace studio
