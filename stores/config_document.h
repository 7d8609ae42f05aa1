// The one store behind the configuration editor: a Config, the file it belongs to, whether it has
// unsaved changes, and every problem with it. Views subscribe to its signals; none of them keeps a
// copy of the configuration.
#pragma once

#include <QObject>
#include <QString>

#include "common/config.h"
#include "common/config_schema.h"
#include "common/diagnostics.h"
#include "common/topology.h"

namespace studio {

struct LoadResult {
  bool opened = false;              // false: the document is unchanged
  syncbn::Diagnostics diagnostics;  // what was wrong with the file, opened or not
};

class ConfigDocument : public QObject {
  Q_OBJECT

 public:
  explicit ConfigDocument(QObject* parent = nullptr);

  const syncbn::Config& config() const { return config_; }
  // File problems from the last load, then validation errors, then advice; kept current.
  const syncbn::Diagnostics& diagnostics() const { return diagnostics_; }
  syncbn::Diagnostics diagnosticsFor(const QString& fieldPath) const;
  // What the configuration resolves to. The GUI links no CUDA runtime, so until the engine has
  // listed the devices it assumes a host without CUDA devices: device "" (auto) previews as CPU.
  syncbn::Topology topology() const;
  // The machine's CUDA devices as the engine counted them (`devices --json`): topology, the
  // checks and the advice then speak of this machine rather than a CPU-only one.
  void setHostFacts(const syncbn::HostFacts& host);
  const syncbn::HostFacts& hostFacts() const { return host_; }

  QString filePath() const { return filePath_; }  // empty until loaded or saved
  QString displayName() const;                    // the file's name, or "Untitled"
  bool isModified() const { return modified_; }
  QString errorString() const { return errorString_; }  // why the last save failed

  void setField(const syncbn::FieldSpec& spec, const syncbn::FieldValue& value);
  void setConfig(const syncbn::Config& config);
  void newDocument();
  // Reads `path`. Unknown keys and bad values are reported and leave those fields at their
  // defaults; a file that is not a readable configuration at all (missing, a directory, a YAML
  // syntax error) is not opened, so a later Save cannot overwrite it with defaults.
  LoadResult load(const QString& path);
  // Both write atomically. On failure errorString() says why, and the document stays modified so
  // the user can retry elsewhere without losing their edits.
  bool save();
  bool saveAs(const QString& path);

 signals:
  void configChanged();
  void diagnosticsChanged();
  void pathChanged();
  void modifiedChanged(bool modified);

 private:
  void replace(const syncbn::Config& config, const syncbn::Diagnostics& fileProblems,
               const QString& path, bool modified);
  void recomputeDiagnostics();
  void setModified(bool modified);
  void setFilePath(const QString& path);

  syncbn::Config config_;
  syncbn::HostFacts host_;            // no CUDA devices until setHostFacts
  syncbn::Diagnostics fileProblems_;  // from the last load, until the file is rewritten
  syncbn::Diagnostics diagnostics_;
  QString filePath_;
  QString errorString_;
  bool modified_ = false;
};

}  // namespace studio
