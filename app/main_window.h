// The editor's main window: a list of pages beside the page itself, the Problems dock, and the
// File menu and toolbar. It owns the document and connects the views to it; the document and
// widgets hold the logic.
#pragma once

#include <QMainWindow>

class QAction;
class QDockWidget;
class QLabel;
class QListWidget;
class QStackedWidget;

namespace studio {

class ConfigDocument;
class ConfigPage;
class ProblemsView;
class RecentFiles;
struct LoadResult;

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(QWidget* parent = nullptr);

  ConfigDocument* document() const { return document_; }
  RecentFiles* recentFiles() const { return recentFiles_; }
  ProblemsView* problemsView() const { return problemsView_; }

  // Each asks about unsaved changes first where that applies, and reports failures to the user.
  bool openFile(const QString& path);
  bool saveFile();                       // asks for a file name while the document has none
  bool saveFileAs(const QString& path);  // without asking
  void newDocument();

  void showPage(const QString& pageId);
  void showField(const QString& fieldPath);  // the page holding it, with its editor focused
  QString currentPageId() const;

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  void createActions();
  void createMenus();
  void createToolBar();
  void createPages();
  void createProblemsDock();
  void createStatusBar();

  bool loadFile(const QString& path);  // without asking about unsaved changes
  void chooseFileToOpen();
  bool chooseFileToSaveAs();
  bool confirmDiscardingChanges();  // false: the user cancelled
  void reportLoadProblems(const QString& path, const LoadResult& result);
  void showAbout();

  void updateTitle();
  void updateStatus();
  QString dialogDirectory() const;
  void rememberDirectory(const QString& filePath);
  void readSettings();
  void writeSettings() const;

  ConfigDocument* document_;
  RecentFiles* recentFiles_;
  QListWidget* pageList_ = nullptr;
  QStackedWidget* pageStack_ = nullptr;
  QList<ConfigPage*> pages_;
  QDockWidget* problemsDock_ = nullptr;
  ProblemsView* problemsView_ = nullptr;
  QLabel* statusSummary_ = nullptr;

  QAction* newAction_ = nullptr;
  QAction* openAction_ = nullptr;
  QAction* saveAction_ = nullptr;
  QAction* saveAsAction_ = nullptr;
  QAction* quitAction_ = nullptr;
  QAction* aboutAction_ = nullptr;
};

}  // namespace studio
