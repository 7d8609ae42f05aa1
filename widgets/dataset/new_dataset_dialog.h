// "New data.yaml": pick the train and val image folders, type the class names, and the studio
// writes an Ultralytics data.yaml (common/data_yaml_writer.h, the same format the engine reads).
// The form says what is missing as the user types; Create is enabled once nothing is.
#pragma once

#include <QDialog>

class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;

namespace studio {

class NewDatasetDialog : public QDialog {
  Q_OBJECT

 public:
  explicit NewDatasetDialog(const QString& startFolder, QWidget* parent = nullptr);

  // For tests and for callers that know the folders already.
  void setFolders(const QString& train, const QString& val);
  void setNames(const QStringList& names);
  void setOutput(const QString& yamlFile);
  QStringList problems() const;

  // The data.yaml written on Create; empty before.
  QString writtenFile() const { return written_; }

  void accept() override;  // writes the file; stays open with the reason when it cannot

 private:
  QLineEdit* folderRow(const QString& label, const QString& tip, bool optional);
  void update();
  QStringList names() const;

  QString startFolder_;
  QLineEdit* train_ = nullptr;
  QLineEdit* val_ = nullptr;
  QLineEdit* test_ = nullptr;
  QPlainTextEdit* names_ = nullptr;
  QLineEdit* output_ = nullptr;
  QLabel* problems_ = nullptr;
  QDialogButtonBox* buttons_ = nullptr;
  QPushButton* create_ = nullptr;
  QString written_;
  bool outputEdited_ = false;
};

}  // namespace studio
