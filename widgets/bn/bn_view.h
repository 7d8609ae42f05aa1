// The BatchNorm view of a run (bn_stats, docs/syncbn.md): a layers x ranks heatmap of one
// statistic at the latest probe, the layers sorted by noise or disagreement, the selected
// layer's per-rank batch statistics over the probes against its running statistics, and the
// summary curves (maximum and median over layers of the noise and the disagreement).
#pragma once

#include <QPointer>
#include <QWidget>

#include "widgets/monitor/live_plot.h"

class QComboBox;
class QLabel;
class QSortFilterProxyModel;
class QTableView;

namespace studio {

class BnLayersModel;
class ReplotScheduler;
class RunStore;
class SeriesPlot;
enum class BnRankValue;

// The heatmap: rows are layers (model order, top to bottom), columns ranks.
class BnHeatmap : public LivePlot {
  Q_OBJECT

 public:
  explicit BnHeatmap(ReplotScheduler* scheduler, QWidget* parent = nullptr);
  void setValue(BnRankValue value);
  BnRankValue value() const { return value_; }
  // The cell's value at (rank, row of the latest probe); NaN outside.
  double cell(int rank, int row) const;
  QString valuesAt(double x, double y) const override;

 protected:
  void syncData(bool rebuild) override;
  bool hasData() const override;
  void rescaleToData() override;
  int feeds() const override { return BnStats; }
  QString xTitle() const override;
  void resizeEvent(QResizeEvent* event) override;

 private:
  QCPColorMap* map_;
  QCPColorScale* scale_;
  BnRankValue value_;
  int rows_ = 0, ranks_ = 0;
};

class BnView : public QWidget {
  Q_OBJECT

 public:
  explicit BnView(ReplotScheduler* scheduler, QWidget* parent = nullptr);

  void setStore(RunStore* store);
  void selectLayer(const QString& layer);
  QString selectedLayer() const { return layer_; }

  BnHeatmap* heatmap() const { return heatmap_; }
  QTableView* layerTable() const { return layers_; }
  SeriesPlot* layerMeanPlot() const { return layerMean_; }
  SeriesPlot* layerVarPlot() const { return layerVar_; }
  SeriesPlot* summaryPlot() const { return summary_; }

 private:
  void rebuildLayerPlots();
  void onProbe();

  QPointer<RunStore> store_;
  ReplotScheduler* scheduler_;
  BnHeatmap* heatmap_;
  QComboBox* statistic_;
  BnLayersModel* model_;
  QSortFilterProxyModel* sorted_;
  QTableView* layers_;
  SeriesPlot* layerMean_;
  SeriesPlot* layerVar_;
  SeriesPlot* summary_;
  QLabel* layerTitle_ = nullptr;  // names the selected layer
  QString layer_;
  int ranksShown_ = 0;
};

}  // namespace studio
