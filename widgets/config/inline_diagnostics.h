// The messages shown under one field's editor: one line per diagnostic, coloured and with an icon
// by severity. Hidden while the field has none, so healthy forms stay compact.
#pragma once

#include <QWidget>

#include "common/diagnostics.h"

class QVBoxLayout;

namespace studio {

class InlineDiagnostics : public QWidget {
  Q_OBJECT

 public:
  explicit InlineDiagnostics(QWidget* parent = nullptr);

  void setDiagnostics(const syncbn::Diagnostics& diagnostics);
  const syncbn::Diagnostics& diagnostics() const { return shown_; }
  QString text() const;  // all messages, one per line; what a screen reader or a test reads

 private:
  QWidget* createRow(const syncbn::Diagnostic& diagnostic);

  QVBoxLayout* rows_;
  syncbn::Diagnostics shown_;
};

}  // namespace studio
