// One line about a run: its state as a coloured badge, then epoch i/N, iteration, ETA, images/s
// and the best mAP50-95 so far; and under it, when the run failed, why, in plain words.
// Updated at most four times a second, however fast steps arrive.
#pragma once

#include <QPointer>
#include <QTimer>
#include <QWidget>

class QLabel;

namespace studio {

class RunStore;

class RunStatusLine : public QWidget {
  Q_OBJECT

 public:
  explicit RunStatusLine(QWidget* parent = nullptr);
  void setStore(RunStore* store);
  QString text() const;  // what the line says, for tests and the window's status bar
  QString failureText() const;
  QLabel* badge() const { return state_; }

  static QString formatDuration(double seconds);  // "0:42", "12:03", "1:02:03"

 signals:
  void textChanged(const QString& text);

 private:
  void update();

  QPointer<RunStore> store_;
  QLabel* state_;
  QLabel* details_;
  QLabel* failure_;
  QTimer throttle_;
};

}  // namespace studio
