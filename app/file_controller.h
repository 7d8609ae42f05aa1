// The configuration file's life in the window: New, Open, Save, Save As, the recent files, and
// the question about unsaved changes. Reports every failure to the user; never loses an edit.
#pragma once

#include <QObject>
#include <QString>

class QWidget;

namespace studio {

class ConfigDocument;
class RecentFiles;
struct LoadResult;

class FileController : public QObject {
  Q_OBJECT

 public:
  FileController(ConfigDocument* document, RecentFiles* recentFiles, QWidget* window);

  // Each asks about unsaved changes first where that applies.
  bool openFile(const QString& path);
  bool saveFile();                       // asks for a file name while the document has none
  bool saveFileAs(const QString& path);  // without asking
  void newDocument();
  void chooseFileToOpen();
  bool chooseFileToSaveAs();
  bool confirmDiscardingChanges();  // false: the user cancelled

  // The folder file dialogs start in: the document's, else the last one used.
  QString dialogDirectory() const;

 signals:
  void statusMessage(const QString& text);
  // A file opened with problems: fields that held unusable values now hold defaults, and the
  // user must see that before saving.
  void problemsNeedAttention();

 private:
  bool loadFile(const QString& path);  // without asking about unsaved changes
  void reportLoadProblems(const QString& path, const LoadResult& result);
  void rememberDirectory(const QString& filePath);

  ConfigDocument* document_;
  RecentFiles* recentFiles_;
  QWidget* window_;
};

}  // namespace studio
