// The Dataset page below its fields: create a data.yaml, verify the dataset in the background
// (DatasetCheck runs the engine; progress and Cancel here), and see what verification found:
// per-split counts, images and instances per class as a table and a chart, every problem with
// its file and line, and the images themselves with their boxes.
#pragma once

#include <QWidget>
#include <functional>

class QCheckBox;
class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QTabWidget;
class QTableView;
class QTableWidget;
class QTimer;

namespace studio {

class ConfigDocument;
class DatasetCheck;
class DatasetClassesModel;
class DatasetImagesModel;
class DatasetProblemsModel;
class ImageGrid;
class ImagePreview;
class ClassChart;

class DatasetPanel : public QWidget {
  Q_OBJECT

 public:
  // `engine` says where syncbn-engine is (empty when it is not found, `why` saying so).
  using EngineFinder = std::function<QString(QString* why)>;
  DatasetPanel(ConfigDocument* document, DatasetCheck* check, EngineFinder engine,
               QWidget* parent = nullptr);

  DatasetCheck* check() const { return check_; }
  DatasetImagesModel* imagesModel() const { return images_; }
  DatasetProblemsModel* problemsModel() const { return problems_; }
  ImageGrid* grid() const { return grid_; }
  ImagePreview* problemPreview() const { return problemPreview_; }
  QTabWidget* tabs() const { return tabs_; }
  QString statusText() const;

  void verify();      // the configuration's dataset, now
  void newDataset();  // the New data.yaml dialog; the file it writes becomes data.data
  void showProblem(int row);

 signals:
  // The user created a data.yaml (so the page's field changed); the shell may save or tell.
  void dataYamlCreated(const QString& file);

 protected:
  void showEvent(QShowEvent* event) override;

 private:
  QWidget* createSummaryTab();
  QWidget* createProblemsTab();
  QWidget* createImagesTab();
  void onDataChanged();
  void onRunningChanged(bool running);
  void onReport();
  void onFailed(const QString& message, bool cancelled);
  void updateFilterChoices();
  void applyFilter();
  void setStatus(const QString& text, bool error = false);

  ConfigDocument* document_;
  DatasetCheck* check_;
  EngineFinder engine_;
  DatasetImagesModel* images_;
  DatasetProblemsModel* problems_;
  DatasetClassesModel* classes_;
  QString data_;  // the data.data the panel shows
  QTimer* autoVerify_;
  bool verifyWhenShown_ = false;

  QPushButton* verifyButton_ = nullptr;
  QPushButton* cancelButton_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QLabel* status_ = nullptr;
  QTabWidget* tabs_ = nullptr;
  QTableWidget* splits_ = nullptr;
  QTableView* classTable_ = nullptr;
  ClassChart* chart_ = nullptr;
  QTableView* problemTable_ = nullptr;
  ImagePreview* problemPreview_ = nullptr;
  ImageGrid* grid_ = nullptr;
  ImagePreview* imagePreview_ = nullptr;
  QComboBox* splitFilter_ = nullptr;
  QComboBox* classFilter_ = nullptr;
  QCheckBox* backgroundsOnly_ = nullptr;
  QCheckBox* problemsOnly_ = nullptr;
  QLabel* shown_ = nullptr;
};

}  // namespace studio
