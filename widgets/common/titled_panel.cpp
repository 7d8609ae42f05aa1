#include "widgets/common/titled_panel.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

namespace studio {

TitledPanel::TitledPanel(const QString& title, QWidget* content, QWidget* extra, QWidget* parent)
    : QFrame(parent), title_(new QLabel(title, this)) {
  setFrameShape(QFrame::StyledPanel);
  auto* column = new QVBoxLayout(this);
  column->setContentsMargins(4, 4, 4, 4);
  column->setSpacing(2);
  auto* header = new QHBoxLayout;
  QFont bold = title_->font();
  bold.setBold(true);
  title_->setFont(bold);
  header->addWidget(title_, 1);
  if (extra) header->addWidget(extra);
  column->addLayout(header);
  column->addWidget(content, 1);
}

}  // namespace studio
