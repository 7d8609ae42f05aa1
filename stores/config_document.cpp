#include "stores/config_document.h"

#include <QFileInfo>
#include <algorithm>
#include <stdexcept>

#include "common/advice.h"
#include "common/config_yaml.h"
#include "common/validation.h"
#include "stores/qt_text.h"

namespace studio {
namespace {

// A file-level error (no field) means nothing in the file could be trusted: no mapping at all, or
// a syntax error after which yaml-cpp stops reading.
bool unreadableAsConfig(const syncbn::Diagnostics& diagnostics) {
  return std::any_of(diagnostics.begin(), diagnostics.end(), [](const syncbn::Diagnostic& d) {
    return d.severity == syncbn::Severity::Error && d.field.empty();
  });
}

}  // namespace

ConfigDocument::ConfigDocument(QObject* parent) : QObject(parent) {
  recomputeDiagnostics();
}

syncbn::Diagnostics ConfigDocument::diagnosticsFor(const QString& fieldPath) const {
  const std::string path = toStdString(fieldPath);
  syncbn::Diagnostics out;
  std::copy_if(diagnostics_.begin(), diagnostics_.end(), std::back_inserter(out),
               [&](const syncbn::Diagnostic& d) { return d.field == path; });
  return out;
}

syncbn::Topology ConfigDocument::topology() const {
  return syncbn::resolveTopology(config_, host_);
}

void ConfigDocument::setHostFacts(const syncbn::HostFacts& host) {
  if (host.cudaDevices == host_.cudaDevices) return;
  host_ = host;
  recomputeDiagnostics();
  emit configChanged();  // the topology changed with the machine
  emit diagnosticsChanged();
}

QString ConfigDocument::displayName() const {
  return filePath_.isEmpty() ? tr("Untitled") : QFileInfo(filePath_).fileName();
}

void ConfigDocument::setField(const syncbn::FieldSpec& spec, const syncbn::FieldValue& value) {
  if (spec.get(config_) == value) return;
  spec.set(config_, value);
  // The file's complaint about this field described the value the user just replaced.
  const std::string path = spec.path();
  std::erase_if(fileProblems_, [&](const syncbn::Diagnostic& d) { return d.field == path; });
  recomputeDiagnostics();
  setModified(true);
  emit configChanged();
  emit diagnosticsChanged();
}

void ConfigDocument::setConfig(const syncbn::Config& config) {
  if (config == config_) return;
  config_ = config;
  recomputeDiagnostics();
  setModified(true);
  emit configChanged();
  emit diagnosticsChanged();
}

void ConfigDocument::newDocument() {
  replace(syncbn::Config{}, {}, QString(), false);
}

LoadResult ConfigDocument::load(const QString& path) {
  syncbn::LoadedConfig loaded = syncbn::loadConfigFile(toFsPath(path));
  if (unreadableAsConfig(loaded.diagnostics)) return {false, loaded.diagnostics};
  syncbn::attachLocations(loaded.diagnostics, loaded.locations);
  replace(loaded.config, loaded.diagnostics, QFileInfo(path).absoluteFilePath(), false);
  return {true, loaded.diagnostics};
}

bool ConfigDocument::save() {
  if (filePath_.isEmpty()) {
    errorString_ = tr("The document has no file name yet; use Save As.");
    return false;
  }
  return saveAs(filePath_);
}

bool ConfigDocument::saveAs(const QString& path) {
  try {
    syncbn::saveConfigFile(config_, toFsPath(path));
  } catch (const std::exception& e) {
    errorString_ = toQString(e.what());
    return false;
  }
  errorString_.clear();
  // The file now holds exactly config_, so the old file's problems no longer exist.
  const bool hadFileProblems = !fileProblems_.empty();
  fileProblems_.clear();
  if (hadFileProblems) {
    recomputeDiagnostics();
    emit diagnosticsChanged();
  }
  setFilePath(QFileInfo(path).absoluteFilePath());
  setModified(false);
  return true;
}

void ConfigDocument::replace(const syncbn::Config& config, const syncbn::Diagnostics& fileProblems,
                             const QString& path, bool modified) {
  config_ = config;
  fileProblems_ = fileProblems;
  errorString_.clear();
  recomputeDiagnostics();
  setFilePath(path);
  setModified(modified);
  emit configChanged();
  emit diagnosticsChanged();
}

void ConfigDocument::recomputeDiagnostics() {
  diagnostics_ = fileProblems_;
  for (const auto& d : syncbn::validate(config_, host_))
    diagnostics_.push_back(d);
  for (const auto& d : syncbn::advise(config_, host_))
    diagnostics_.push_back(d);
}

void ConfigDocument::setModified(bool modified) {
  if (modified_ == modified) return;
  modified_ = modified;
  emit modifiedChanged(modified_);
}

void ConfigDocument::setFilePath(const QString& path) {
  if (filePath_ == path) return;
  filePath_ = path;
  emit pathChanged();
}

}  // namespace studio
