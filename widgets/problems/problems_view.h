// Every diagnostic of the document in one list. Activating a row (double-click or Enter) asks for
// the field it names to be shown, which the main window does by switching to its page.
#pragma once

#include <QTreeView>

namespace studio {

class ConfigDocument;
class DiagnosticsModel;

class ProblemsView : public QTreeView {
  Q_OBJECT

 public:
  explicit ProblemsView(ConfigDocument* document, QWidget* parent = nullptr);

  DiagnosticsModel* diagnostics() const { return model_; }
  // Activates `row` as a double-click would; for keyboard-free callers and tests.
  void activateRow(int row);

 signals:
  void fieldActivated(const QString& fieldPath);

 private:
  void onActivated(const QModelIndex& index);

  DiagnosticsModel* model_;
};

}  // namespace studio
