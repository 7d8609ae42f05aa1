#include "widgets/common/line_marker.h"

#include <QColor>
#include <QPlainTextEdit>
#include <QTextBlock>

namespace studio {

bool markLine(QPlainTextEdit* text, int line) {
  const QTextBlock block = line > 0 ? text->document()->findBlockByNumber(line - 1) : QTextBlock();
  if (!block.isValid()) {
    text->setExtraSelections({});
    return false;
  }
  QTextEdit::ExtraSelection mark;
  mark.format.setBackground(QColor(0xff, 0xd0, 0x60));
  mark.format.setProperty(QTextFormat::FullWidthSelection, true);
  mark.cursor = QTextCursor(block);
  text->setExtraSelections({mark});
  text->setTextCursor(mark.cursor);
  text->centerCursor();
  return true;
}

}  // namespace studio
