// Compare mode: two or more runs (for example BN against SyncBN) overlaid on shared axes, one
// colour per run: the smoothed total loss, the oscillation index, validation mAP50 and the
// BatchNorm summaries (median normaliser noise and disagreement over layers), all over epochs so
// runs with different batches line up; a table names each run with its norm, batch and verdict.
// Runs still training keep drawing as their stores grow.
#pragma once

#include <QList>
#include <QPointer>
#include <QTimer>
#include <QWidget>

class QCustomPlot;
class QTableWidget;
class QLabel;

namespace studio {

class RunStore;

class CompareView : public QWidget {
  Q_OBJECT

 public:
  static constexpr double kLossSmoothing = 0.9;  // TensorBoard-style weight on the loss curves

  explicit CompareView(QWidget* parent = nullptr);

  void setRuns(const QList<RunStore*>& runs);
  QList<RunStore*> runs() const;

  // The plots, by name ("loss", "oscillation", "map50", "noise", "disagreement"), for tests.
  QCustomPlot* plot(const QString& name) const;
  QTableWidget* table() const { return table_; }

 private:
  void rebuild();
  QCustomPlot* addPlot(const QString& name, const QString& title, const QString& yLabel);

  QList<QPointer<RunStore>> runs_;
  QList<QPair<QString, QCustomPlot*>> plots_;
  QTableWidget* table_;
  QLabel* empty_;
  QTimer rebuildSoon_;  // folds a burst of store updates into one redraw
};

}  // namespace studio
