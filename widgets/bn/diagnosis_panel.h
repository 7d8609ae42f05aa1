// The BatchNorm diagnosis of a run (RunStore::verdict): its verdict in plain words, the findings
// with their numbers, and a button for each fix they suggest. The shell carries the fixes out;
// this only asks for them.
#pragma once

#include <QPointer>
#include <QWidget>

class QLabel;
class QHBoxLayout;

namespace studio {

class RunStore;

class DiagnosisPanel : public QWidget {
  Q_OBJECT

 public:
  explicit DiagnosisPanel(QWidget* parent = nullptr);
  void setStore(RunStore* store);

  QString headline() const;
  QStringList offeredFixes() const;  // ids, in button order
  static QString fixTitle(const QString& fix);        // translated: "Switch to SyncBN and resume"
  static QString fixDescription(const QString& fix);  // translated, one sentence

 signals:
  void fixRequested(const QString& fix);

 private:
  void update();

  QPointer<RunStore> store_;
  QLabel* headline_;
  QLabel* details_;
  QHBoxLayout* buttons_;
  QStringList fixes_;
};

}  // namespace studio
