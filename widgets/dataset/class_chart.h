// Images and instances per class as grouped bars (one group per class, train and val side by
// side), so that class imbalance is seen before training rather than guessed from the mAP.
#pragma once

#include <QWidget>

class QCustomPlot;

namespace studio {

class DatasetCheck;

class ClassChart : public QWidget {
  Q_OBJECT

 public:
  explicit ClassChart(const DatasetCheck* check, QWidget* parent = nullptr);

  enum class Count { Images, Instances };
  void setCount(Count count);
  QCustomPlot* plot() const { return plot_; }

 private:
  void rebuild();

  const DatasetCheck* check_;
  QCustomPlot* plot_;
  Count count_ = Count::Instances;
};

}  // namespace studio
