// Preferences: which syncbn-engine the studio starts. Empty means "find it" (beside this
// program, then on PATH); the dialog shows what that finds.
#pragma once

#include <QDialog>

class QLabel;
class QLineEdit;

namespace studio {

class PreferencesDialog : public QDialog {
  Q_OBJECT

 public:
  explicit PreferencesDialog(QWidget* parent = nullptr);

  QString engineProgram() const;
  void setEngineProgram(const QString& program);
  // Reads and writes QSettings (kEngineProgramSetting).
  void load();
  void save() const;

 private:
  void updateDetected();

  QLineEdit* engine_;
  QLabel* detected_;
};

}  // namespace studio
