#include "app/file_controller.h"

#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QMessageBox>
#include <QSettings>

#include "app/recent_files.h"
#include "stores/config_document.h"
#include "stores/qt_text.h"

namespace studio {
namespace {

const QString kDirectoryKey = QStringLiteral("files/lastDirectory");

QString formatDiagnostics(const syncbn::Diagnostics& diagnostics) {
  QStringList lines;
  for (const auto& d : diagnostics)
    lines << toQString(syncbn::format(d));
  return lines.join(QLatin1Char('\n'));
}

}  // namespace

FileController::FileController(ConfigDocument* document, RecentFiles* recentFiles, QWidget* window)
    : QObject(window), document_(document), recentFiles_(recentFiles), window_(window) {}

bool FileController::openFile(const QString& path) {
  if (!confirmDiscardingChanges()) return false;
  return loadFile(path);
}

bool FileController::saveFile() {
  if (document_->filePath().isEmpty()) return chooseFileToSaveAs();
  return saveFileAs(document_->filePath());
}

bool FileController::saveFileAs(const QString& path) {
  if (!document_->saveAs(path)) {
    QMessageBox box(QMessageBox::Critical, tr("Save Failed"),
                    tr("The configuration was not saved. Your changes are kept; save them "
                       "somewhere else."),
                    QMessageBox::Ok, window_);
    box.setObjectName(QStringLiteral("saveFailedBox"));
    box.setInformativeText(document_->errorString());
    box.exec();
    return false;
  }
  recentFiles_->add(document_->filePath());
  rememberDirectory(document_->filePath());
  emit statusMessage(tr("Saved %1").arg(QDir::toNativeSeparators(document_->filePath())));
  return true;
}

void FileController::newDocument() {
  if (!confirmDiscardingChanges()) return;
  document_->newDocument();
  emit statusMessage(tr("New configuration with default values"));
}

bool FileController::loadFile(const QString& path) {
  const LoadResult result = document_->load(path);
  if (!result.opened) {
    QMessageBox box(
        QMessageBox::Warning, tr("Cannot Open Configuration"),
        tr("%1 could not be opened as a configuration.").arg(QDir::toNativeSeparators(path)),
        QMessageBox::Ok, window_);
    box.setObjectName(QStringLiteral("openFailedBox"));
    box.setInformativeText(formatDiagnostics(result.diagnostics));
    box.exec();
    if (!QFileInfo::exists(path)) recentFiles_->remove(path);
    return false;
  }
  recentFiles_->add(document_->filePath());
  rememberDirectory(document_->filePath());
  reportLoadProblems(path, result);
  return true;
}

void FileController::chooseFileToOpen() {
  if (!confirmDiscardingChanges()) return;
  const QString path =
      QFileDialog::getOpenFileName(window_, tr("Open Configuration"), dialogDirectory(),
                                   tr("Configuration YAML (*.yaml *.yml);;All files (*)"));
  if (!path.isEmpty()) loadFile(path);
}

bool FileController::chooseFileToSaveAs() {
  QFileDialog dialog(window_, tr("Save Configuration As"), dialogDirectory(),
                     tr("Configuration YAML (*.yaml *.yml);;All files (*)"));
  dialog.setAcceptMode(QFileDialog::AcceptSave);
  dialog.setDefaultSuffix(QStringLiteral("yaml"));
  if (!document_->filePath().isEmpty()) dialog.selectFile(document_->filePath());
  if (dialog.exec() != QDialog::Accepted || dialog.selectedFiles().isEmpty()) return false;
  return saveFileAs(dialog.selectedFiles().constFirst());
}

bool FileController::confirmDiscardingChanges() {
  if (!document_->isModified()) return true;
  QMessageBox box(QMessageBox::Warning, tr("Unsaved Changes"),
                  tr("%1 has unsaved changes.").arg(document_->displayName()),
                  QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, window_);
  box.setObjectName(QStringLiteral("unsavedChangesBox"));
  box.setInformativeText(tr("Do you want to save them first?"));
  box.setDefaultButton(QMessageBox::Save);
  switch (box.exec()) {
    case QMessageBox::Save:
      return saveFile();
    case QMessageBox::Discard:
      return true;
    default:
      return false;
  }
}

void FileController::reportLoadProblems(const QString& path, const LoadResult& result) {
  const QString name = QFileInfo(path).fileName();
  if (result.diagnostics.empty()) {
    emit statusMessage(tr("Opened %1").arg(name));
    return;
  }
  emit statusMessage(tr("Opened %1 with %n problem(s); see Problems", nullptr,
                        static_cast<int>(result.diagnostics.size()))
                         .arg(name));
  emit problemsNeedAttention();
}

QString FileController::dialogDirectory() const {
  if (!document_->filePath().isEmpty()) return QFileInfo(document_->filePath()).absolutePath();
  return QSettings().value(kDirectoryKey, QDir::homePath()).toString();
}

void FileController::rememberDirectory(const QString& filePath) {
  QSettings().setValue(kDirectoryKey, QFileInfo(filePath).absolutePath());
}

}  // namespace studio
