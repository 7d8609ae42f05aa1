// A framed panel: a bold title (with an optional widget at its right, a badge or a chooser) over
// its content. The monitor's and the BatchNorm tab's plots each sit in one.
#pragma once

#include <QFrame>

class QLabel;

namespace studio {

class TitledPanel : public QFrame {
  Q_OBJECT

 public:
  TitledPanel(const QString& title, QWidget* content, QWidget* extra = nullptr,
              QWidget* parent = nullptr);
  QLabel* titleLabel() const { return title_; }

 private:
  QLabel* title_;
};

}  // namespace studio
